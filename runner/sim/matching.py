"""Fill rules of the simulated gateway (pure functions of an order and prices).

The replay walks each source bar (the dataset's own bars, daily or intraday)
along a price path: the open, then the two extremes, then the close. A bar
that closes at or above its open goes open -> low -> high -> close; one that
closes below goes open -> high -> low -> close. The 5-second bars sent to
clients follow the same path, so what a client sees agrees with its fills.

Rules, per order type (BUY shown; SELL is the mirror image):

* MKT: fills at the open of the symbol's next source bar (the first bar that
  opens after the order arrived) -- never inside the bar it arrived in.
* LMT: if the price where the order starts working (the next open, or the
  current price when it arrives mid-bar) is at or below the limit, fills
  there (a gap through the limit fills at the open); otherwise fills at the
  limit when the path reaches it.
* STP: triggers when the path reaches the stop and fills at the stop price;
  an open at or beyond the stop fills at the open (gap-through).
* STP LMT: triggers like STP, then works as LMT from the trigger price on; if
  it gaps beyond its limit it keeps working as a limit order.
* TRAIL: a stop that follows the best price since it started working, by the
  trailing amount (auxPrice) or percent (trailingPercent); an initial
  trailStopPrice is honoured. Fills like STP.
* MOC: fills at the official close of the session (the close of the symbol's
  last source bar of that session) if it arrived before that session's close;
  later arrivals fill at the next session's close.
* LOC: like MOC if the close is at or below the limit; otherwise it is
  cancelled at the close, as on the exchange.

Fills are at exactly these prices (no slippage). Orders with tif DAY (or no
tif) that have not filled are cancelled at the close of the session they were
working in; GTC orders stay. Bracket children and OCA groups: see exchange.py.
"""
from __future__ import annotations

from .orders import SimOrder


def _limit_fill(buy: bool, limit: float, start: float, end: float) -> float | None:
    if buy:
        return start if start <= limit else (limit if end <= limit else None)
    return start if start >= limit else (limit if end >= limit else None)


def _stop_trigger(buy: bool, stop: float, start: float, end: float) -> float | None:
    if buy:
        return start if start >= stop else (stop if end >= stop else None)
    return start if start <= stop else (stop if end <= stop else None)


def fill_at_open(order: SimOrder, open_price: float) -> float | None:
    """Fill price when the symbol's next source bar opens at ``open_price``, or None."""
    kind = order.ticket.order_type
    if kind == "MKT":
        return open_price
    return fill_on_move(order, open_price, open_price)


def fill_on_move(order: SimOrder, start: float, end: float) -> float | None:
    """Fill price while the price moves monotonically from ``start`` to ``end``, or None.

    May update the order's working state (stop triggered, trailing extreme).
    """
    t = order.ticket
    buy = order.is_buy
    if t.order_type == "LMT" and t.lmt_price is not None:
        return _limit_fill(buy, t.lmt_price, start, end)
    if t.order_type == "STP" and t.aux_price is not None:
        return _stop_trigger(buy, t.aux_price, start, end)
    if t.order_type == "STP LMT" and t.aux_price is not None and t.lmt_price is not None:
        if not order.stop_triggered:
            trigger = _stop_trigger(buy, t.aux_price, start, end)
            if trigger is None:
                return None
            order.stop_triggered = True
            start = trigger
        return _limit_fill(buy, t.lmt_price, start, end)
    if t.order_type == "TRAIL":
        return _trail(order, start, end)
    return None


def fill_at_auction(order: SimOrder, close: float) -> float | None:
    """Fill price in the closing auction (MOC, LOC), or None."""
    t = order.ticket
    if t.order_type == "MOC":
        return close
    if t.order_type == "LOC" and t.lmt_price is not None:
        ok = close <= t.lmt_price if order.is_buy else close >= t.lmt_price
        return close if ok else None
    return None


def trailing_stop(order: SimOrder) -> float | None:
    """The current stop price of a TRAIL order (None before it has a reference price)."""
    extreme = order.trail_extreme
    if extreme is None:
        return None
    return extreme - _trail_amount(order, extreme) if not order.is_buy else extreme + _trail_amount(order, extreme)


def _trail_amount(order: SimOrder, extreme: float) -> float:
    t = order.ticket
    if t.trailing_percent is not None:
        return extreme * t.trailing_percent / 100.0
    return t.aux_price or 0.0


def _initial_extreme(order: SimOrder, price: float) -> float:
    t = order.ticket
    if t.trail_stop_price is None:
        return price
    if t.trailing_percent is not None:
        factor = 1 - t.trailing_percent / 100.0 if not order.is_buy else 1 + t.trailing_percent / 100.0
        return t.trail_stop_price / factor
    amount = t.aux_price or 0.0
    return t.trail_stop_price + amount if not order.is_buy else t.trail_stop_price - amount


def _trail(order: SimOrder, start: float, end: float) -> float | None:
    if order.trail_extreme is None:
        order.trail_extreme = _initial_extreme(order, start)
    sell = not order.is_buy
    better = max if sell else min
    order.trail_extreme = better(order.trail_extreme, start)
    stop = trailing_stop(order)
    fill = _stop_trigger(not sell, stop, start, end)
    if fill is None:
        order.trail_extreme = better(order.trail_extreme, end)
    return fill
