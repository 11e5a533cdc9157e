"""What the simulated gateway refuses when an order arrives, as IB Gateway does.

Contract: pure functions of the order ticket (and the clock); each returns
``None`` when the order is acceptable, else what the gateway answers:

* ``refusal`` -> ``(code, message)``: unknown contract 200, what-if 321,
  unsupported type 387, zero size 434, bad action or missing price 321, a
  price off the contract's minimum tick 110;
* ``modification_refusal`` -> ``(code, message)`` for an order id sent again
  (IB's modification): 104 the order has filled, 103 it is otherwise done
  (cancelled, inactive: the id is used), 105 the side, order type or contract
  differ from the working order's (IB: cancel and send a new order instead),
  else the modified order's own ``refusal`` (e.g. 110 off the tick);
* ``past_auction_cutoff`` -> the reason of a 201 reject: a MOC or LOC that
  arrives during a session at or after that session's cutoff for closing
  auction orders (``moc_cutoff_minutes`` before the close: 15:50, or 12:50 on
  a 13:00 early-close day). One that arrives after the close joins the next
  session's auction.
"""
from __future__ import annotations

from typing import Callable

from .contracts import Listing
from .orders import SUPPORTED_TYPES, OrderTicket

HELD_TYPES = frozenset({"STP", "STP LMT", "TRAIL"})   # IB shows simulated stops as PreSubmitted until elected
AUCTION_TYPES = frozenset({"MOC", "LOC"})
MOC_CUTOFF_MINUTES = 10


def on_tick(price: float, tick: float) -> bool:
    """True when ``price`` is a whole number of ``tick`` (within float noise)."""
    ticks = price / tick
    return abs(ticks - round(ticks)) < 1e-6


def refusal(ticket: OrderTicket, listing: Listing | None) -> tuple[int, str] | None:
    if listing is None:
        return 200, "No security definition has been found for the request"
    if ticket.what_if:
        return 321, "Error validating request:-'bO' : cause - What-if orders are not simulated"
    if ticket.order_type not in SUPPORTED_TYPES:
        return 387, "Unsupported order type for this exchange and security type."
    if ticket.quantity <= 0:
        return 434, "The order size cannot be zero."
    if ticket.action not in ("BUY", "SELL"):
        return 321, f"Error validating request:-'bO' : cause - Invalid action: {ticket.action}"
    needs_limit = ticket.order_type in ("LMT", "LOC", "STP LMT")
    needs_stop = ticket.order_type in ("STP", "STP LMT")
    if (needs_limit and ticket.lmt_price is None) or (needs_stop and ticket.aux_price is None):
        return 321, "Error validating request:-'bO' : cause - Missing order price"
    if ticket.order_type == "TRAIL" and ticket.aux_price is None and ticket.trailing_percent is None:
        return 321, "Error validating request:-'bO' : cause - Missing trailing amount"
    for price in (ticket.lmt_price, ticket.aux_price, ticket.trail_stop_price):
        if price is not None and not on_tick(price, listing.min_tick):
            return 110, "The price does not conform to the minimum price variation for this contract."
    return None


def modification_refusal(order, ticket: OrderTicket, listing: Listing | None) -> tuple[int, str] | None:
    """What IB answers to ``ticket`` re-sent under the id of ``order`` (a SimOrder), None if the change is allowed."""
    if order.is_done:
        if order.status == "Filled":
            return 104, "Can't modify a filled order"
        return 103, "Duplicate order id"
    old = order.ticket
    if ticket.action != old.action or ticket.order_type != old.order_type:
        return 105, "Order being modified does not match original order."
    if ((ticket.con_id and old.con_id and ticket.con_id != old.con_id)
            or (ticket.symbol and old.symbol and ticket.symbol.upper() != old.symbol.upper())):
        return 105, "Order being modified does not match original order."
    return refusal(ticket, listing)


def past_auction_cutoff(ticket: OrderTicket, now: float,
                        session_close_at: Callable[[float], float | None]) -> str | None:
    """The 201 reason for a closing-auction order entered too late, or None.

    ``session_close_at(now)`` is the close (epoch seconds) of the session ``now`` falls in, None
    outside a session.
    """
    if ticket.order_type not in AUCTION_TYPES:
        return None
    close = session_close_at(now)
    if close is None or now < close - MOC_CUTOFF_MINUTES * 60:
        return None
    return (f"The {ticket.order_type} order was entered after the cutoff for closing auction orders "
            f"({MOC_CUTOFF_MINUTES} minutes before the close)")
