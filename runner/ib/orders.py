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

Time in force: ``valid=None`` -> GTC; a ``valid`` (date, timedelta or 0)
-> DAY. MOC/LOC are always DAY. Anything else raises
:class:`TranslationError`; the broker turns it into a Rejected order.
"""
from __future__ import annotations

from dataclasses import dataclass

import backtrader as bt

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


def order_spec(order: bt.Order, order_ref: str, parent_ref: str | None = None,
               oca_group: str | None = None) -> OrderSpec:
    """Translate one backtrader order; raise TranslationError when impossible."""
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
            aux = float(order.trailamount)
        elif order.trailpercent:
            trail_pct = float(order.trailpercent) * 100.0
        else:
            raise TranslationError("trailing stop needs trailamount or trailpercent")
    else:
        raise TranslationError(f"order type {bt.Order.ExecTypes[et]} is not supported by the IB broker")
    if on_close and et != bt.Order.Limit:
        raise TranslationError("on_close=True applies to Limit orders only (limit-on-close)")
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
