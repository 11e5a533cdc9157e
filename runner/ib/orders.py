"""Translation of backtrader orders into IB orders (pure; no I/O, no library import).

| backtrader | IB |
|---|---|
| ``Market`` | ``MKT`` |
| ``Close`` (market-on-close) | ``MOC`` (tif DAY) |
| ``Limit`` with ``info.on_close=True`` (limit-on-close) | ``LOC`` (tif DAY) |
| ``Limit`` | ``LMT`` |
| ``Stop`` | ``STP`` (aux price = stop) |
| ``StopLimit`` | ``STP LMT`` (aux = stop ``price``, limit = ``plimit``) |
| ``StopTrail`` | ``TRAIL`` (amount or percent) |
| bracket (``parent=``, ``transmit=``) | ``parentId`` chain, transmitted with the last child |
| ``oco=`` group | ``ocaGroup`` named after the group leader's orderRef, ``ocaType`` 1 |

Prices go out on the contract's minimum tick (``min_tick``, from the contract
details; 0.01 for US stocks above $1): a SELL price is rounded up and a BUY
price down, so a protective stop is never loosened (a long's sell stop moves
towards the price, a short's buy stop too), a target or a limit entry is never
made more generous, and a trailing amount is rounded down (tighter), to one
tick at least. A price already on the tick (within float noise) is kept.

Time in force: ``valid=None`` -> GTC; a ``valid`` (date, timedelta or 0)
-> DAY. MOC/LOC are always DAY. Anything else raises
:class:`TranslationError`; the broker turns it into a Rejected order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import backtrader as bt

DEFAULT_MIN_TICK = 0.01

UNSET = None


class TranslationError(ValueError):
    """The backtrader order has no faithful IB equivalent."""


@dataclass(frozen=True)
class OrderSpec:
    """An IB order in IB's terms, independent of the client library."""

    orderRef: str
    action: str
    totalQuantity: float
    orderType: str
    lmtPrice: float | None = None
    auxPrice: float | None = None
    trailingPercent: float | None = None
    tif: str = "GTC"
    ocaGroup: str = ""
    ocaType: int = 0
    parentRef: str | None = None
    transmit: bool = True


def on_tick(price: float, tick: float, up: bool) -> float:
    """``price`` on a multiple of ``tick``: rounded up (``up``) or down; already on the tick stays."""
    if not tick or tick <= 0:
        return float(price)
    ticks = price / tick
    nearest = round(ticks)
    if abs(ticks - nearest) < 1e-6:
        n = nearest
    else:
        n = math.ceil(ticks) if up else math.floor(ticks)
    decimals = max(0, -math.floor(math.log10(tick)) + 2)
    return round(n * tick, decimals)


def put_on_tick(order: bt.Order, min_tick: float = DEFAULT_MIN_TICK) -> None:
    """Move ``order``'s own prices onto the tick, as :func:`order_spec` sends them, so every record of the
    order (orders.csv, status.json, the status page, notifications, the log) shows the price actually sent.
    Idempotent: a price already on the tick stays."""
    up = not order.isbuy()
    et = order.exectype
    if et in (bt.Order.Limit, bt.Order.Stop, bt.Order.StopLimit) and order.created.price:
        order.created.price = on_tick(float(order.created.price), min_tick, up=up)
        order.price = order.created.price
    if et == bt.Order.StopLimit and order.created.pricelimit:
        order.created.pricelimit = on_tick(float(order.created.pricelimit), min_tick, up=up)
        order.plimit = order.created.pricelimit
    if et == bt.Order.StopTrail and order.trailamount:
        order.trailamount = max(on_tick(float(order.trailamount), min_tick, up=False), min_tick)


def order_spec(order: bt.Order, order_ref: str, parent_ref: str | None = None,
               oca_group: str | None = None, min_tick: float = DEFAULT_MIN_TICK) -> OrderSpec:
    """Translate one backtrader order, prices on ``min_tick``; raise TranslationError when impossible."""
    size = abs(order.created.size)
    if not size or size != int(size):
        raise TranslationError(f"order size must be a non-zero whole number of shares (got {order.created.size})")
    action = "BUY" if order.isbuy() else "SELL"
    tif = "GTC" if order.valid is None else "DAY"
    price, plimit = order.created.price, order.created.pricelimit
    on_close = bool(order.info.get("on_close", False))
    et = order.exectype
    lmt = aux = trail_pct = None
    if et == bt.Order.Market:
        kind = "MKT"
    elif et == bt.Order.Close:
        kind, tif = "MOC", "DAY"
    elif et == bt.Order.Limit:
        lmt = _price(price, "limit")
        kind = "LOC" if on_close else "LMT"
        if on_close:
            tif = "DAY"
    elif et == bt.Order.Stop:
        kind, aux = "STP", _price(price, "stop")
    elif et == bt.Order.StopLimit:
        kind, aux, lmt = "STP LMT", _price(price, "stop"), _price(plimit, "limit")
    elif et == bt.Order.StopTrail:
        kind = "TRAIL"
        if order.trailamount:
            aux = max(on_tick(float(order.trailamount), min_tick, up=False), min_tick)
        elif order.trailpercent:
            trail_pct = float(order.trailpercent) * 100.0
        else:
            raise TranslationError("trailing stop needs trailamount or trailpercent")
    else:
        raise TranslationError(f"order type {bt.Order.ExecTypes[et]} is not supported by the IB broker")
    if on_close and et != bt.Order.Limit:
        raise TranslationError("on_close=True applies to Limit orders only (limit-on-close)")
    sell = action == "SELL"
    if lmt is not None:
        lmt = on_tick(lmt, min_tick, up=sell)
    if aux is not None and kind in ("STP", "STP LMT"):
        aux = on_tick(aux, min_tick, up=sell)
    return OrderSpec(
        orderRef=order_ref, action=action, totalQuantity=float(size), orderType=kind,
        lmtPrice=lmt, auxPrice=aux, trailingPercent=trail_pct, tif=tif,
        ocaGroup=oca_group or "", ocaType=1 if oca_group else 0,
        parentRef=parent_ref, transmit=bool(order.transmit),
    )


def _price(value, what: str) -> float:
    if value is None or not value > 0:
        raise TranslationError(f"{what} price must be > 0 (got {value})")
    return float(value)


def to_ib_order(lib, spec: OrderSpec, order_id: int, parent_id: int = 0, account: str = ""):
    """Build the library's ``Order`` object for ``spec`` (called on the IB thread)."""
    o = lib.Order()
    o.orderId = order_id
    o.orderRef = spec.orderRef
    o.action = spec.action
    o.totalQuantity = spec.totalQuantity
    o.orderType = spec.orderType
    o.tif = spec.tif
    o.transmit = spec.transmit
    o.account = account
    if spec.lmtPrice is not None:
        o.lmtPrice = spec.lmtPrice
    if spec.auxPrice is not None:
        o.auxPrice = spec.auxPrice
    if spec.trailingPercent is not None:
        o.trailingPercent = spec.trailingPercent
    if spec.ocaGroup:
        o.ocaGroup = spec.ocaGroup
        o.ocaType = spec.ocaType
    if parent_id:
        o.parentId = parent_id
    return o
