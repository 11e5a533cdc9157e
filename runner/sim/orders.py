"""Orders as the simulated gateway holds them.

An ``OrderTicket`` is what a client asked for (decoded from placeOrder); a
``SimOrder`` is the gateway's live record of it: ids, status, fills, and the
working state the matching rules need (stop triggered, trailing extreme).

Statuses follow IB: PreSubmitted (held: stops, bracket children before their
parent fills), Submitted (working), Filled, Cancelled, Inactive.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SUPPORTED_TYPES = frozenset({"MKT", "LMT", "STP", "STP LMT", "MOC", "LOC", "TRAIL"})
DONE_STATUSES = frozenset({"Filled", "Cancelled", "Inactive", "ApiCancelled"})


@dataclass
class OrderTicket:
    order_id: int
    con_id: int
    symbol: str
    sec_type: str
    exchange: str
    currency: str
    action: str                      # BUY or SELL
    quantity: float
    order_type: str
    lmt_price: float | None = None
    aux_price: float | None = None   # stop price, or the trailing amount of a TRAIL
    tif: str = "DAY"
    oca_group: str = ""
    oca_type: int = 0
    account: str = ""
    order_ref: str = ""
    transmit: bool = True
    parent_id: int = 0
    outside_rth: bool = False
    trail_stop_price: float | None = None
    trailing_percent: float | None = None
    what_if: bool = False


@dataclass
class SimOrder:
    ticket: OrderTicket
    client_id: int
    perm_id: int
    received_at: float               # sim epoch seconds
    status: str = "PendingSubmit"
    filled: float = 0.0
    avg_fill_price: float = 0.0
    last_fill_price: float = 0.0
    commission_paid: float = 0.0
    completed_at: float | None = None
    completed_status: str = ""
    # Matching state.
    wait_for_next_bar: bool = False  # bracket children start on the bar after the parent fill
    stop_triggered: bool = False
    trail_extreme: float | None = None
    children: list[int] = field(default_factory=list)   # perm ids
    modifications: int = 0           # accepted re-sends of the same orderId (IB: modifications, not new orders)

    @property
    def order_id(self) -> int:
        return self.ticket.order_id

    @property
    def symbol(self) -> str:
        return self.ticket.symbol

    @property
    def is_buy(self) -> bool:
        return self.ticket.action.upper() == "BUY"

    @property
    def remaining(self) -> float:
        return max(self.ticket.quantity - self.filled, 0.0)

    @property
    def is_done(self) -> bool:
        return self.status in DONE_STATUSES

    @property
    def is_working(self) -> bool:
        return self.status in ("PreSubmitted", "Submitted")

    def record_fill(self, quantity: float, price: float) -> None:
        total = self.filled + quantity
        self.avg_fill_price = (self.avg_fill_price * self.filled + price * quantity) / total
        self.filled = total
        self.last_fill_price = price
