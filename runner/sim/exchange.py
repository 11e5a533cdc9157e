"""Order handling of the simulated gateway: accept, hold, match, fill, cancel.

Contract:

* ``place`` accepts an order (or modifies a working one with the same client
  and order id; a new order whose id is not above every id the client used
  before, refused ones included, is refused with 103 'Duplicate order id', as
  IB does: see ``order_checks.modification_refusal`` for what IB refuses
  there: 104 filled, 103 otherwise done, 105 another side, type or contract,
  and the new order's own checks such as 110), validates it like a gateway (unknown contract -> 200,
  unsupported type -> 387, zero size -> 434, a price off the contract's
  minimum tick -> 110, injected reject -> 201 followed by status Inactive
  reported with nothing remaining, as IB Gateway does) and
  tells the listener about every change.
* Orders sent with ``transmit=False`` are held until an order of the same
  bracket (same parent) arrives with ``transmit=True``; then all go live.
* Every order works from the symbol's next source bar on (never inside the bar
  it arrived in); bracket children wait (PreSubmitted) until their parent has
  filled and then work from the next source bar on. When one child fills, its
  siblings are reduced by the filled quantity (cancelled at zero), as IB does.
* OCA groups: ocaType 2 or 3 reduce the other orders of the group by each
  fill; ocaType 1 (and 0) cancel them at the first fill.
* Fill prices come from ``matching``; each fill may be split into
  ``partial_fills`` executions at the same price (the order's status is
  Submitted with the running filled quantity until the last one).
* ``close_session`` runs the closing auction (MOC, LOC) and then cancels
  unfilled DAY orders that were working in that session.
* Like IB Gateway: an order goes live as PreSubmitted and then Submitted; a
  stop (STP, STP LMT, TRAIL) rests in PreSubmitted until it is elected, then
  turns Submitted before it fills; an order larger than ``fill_lot`` shares
  fills in executions of at most ``fill_lot`` shares (``partial_fills`` > 1
  splits every fill into that many instead); a MOC or LOC that arrives in a
  session at or after its cutoff (``moc_cutoff_minutes`` before the close:
  15:50, 12:50 on an early-close day) is refused with 201 and Inactive.
* Liquidity (``liquidity``, set by a test through ``SimulatedGateway.limit_liquidity``): at most that
  many shares of a symbol trade for the clients' orders until it is lifted; an order meets what is left
  and the rest keeps working (Submitted, partly filled) across bars, sessions and client disconnects,
  and fills at the first bar event after the limit is lifted (a MKT at the next source bar's open).
* Attached orders of a parent that filled in part and was then cancelled (by the client, or a DAY
  order at the close) are cut to the quantity the parent filled and start working then; while the
  parent works they stay held (PreSubmitted). This is the simulator's model: IB documents only that
  attached orders wait for their parent to fill, so the bot relies on neither (it withdraws them and
  sends exits sized to the position).
"""
from __future__ import annotations

from typing import Callable, Protocol

from . import matching, order_checks
from .account import Account, CommissionSchedule, Execution
from .contracts import ContractBook, Listing
from .orders import SUPPORTED_TYPES, OrderTicket, SimOrder
from .variations import Variations, warning_399

from .order_checks import HELD_TYPES, on_tick  # noqa: F401  (on_tick: public)


class ExchangeListener(Protocol):
    def order_updated(self, order: SimOrder) -> None: ...
    def order_error(self, client_id: int, order_id: int, code: int, message: str) -> None: ...
    def executed(self, order: SimOrder, execution: Execution) -> None: ...
    def positions_changed(self, symbol: str) -> None: ...


class SimExchange:
    def __init__(self, account: Account, contracts: ContractBook, commission: CommissionSchedule,
                 listener: ExchangeListener, clock: Callable[[], float], partial_fills: int = 0,
                 reject_status: str = "Inactive", fill_lot: int = 0,
                 session_close_at: Callable[[float], float | None] | None = None, variations: Variations | None = None,
                 held_until: Callable[[SimOrder, float], str | None] | None = None):
        self.account = account
        self.contracts = contracts
        self.commission = commission
        self.listener = listener
        self.clock = clock
        self.partial_fills = max(int(partial_fills), 1)
        self.fill_lot = max(int(fill_lot), 0)
        self.session_close_at = session_close_at or (lambda now: None)
        self.reject_status = reject_status
        self.variations = variations or Variations()
        self.held_until = held_until or (lambda order, now: None)
        self._warned: set[int] = set()                     # permIds that had their 399 (warn_399)
        self.orders: dict[int, SimOrder] = {}              # by permId, in arrival order
        self.last_prices: dict[str, float] = {}
        self.rejects_pending: list[tuple[str, str | None]] = []   # injected rejects: (reason, order type or None)
        self._keys: dict[tuple[int, int], int] = {}        # (clientId, orderId) -> permId
        self._highest_id: dict[int, int] = {}              # clientId -> highest orderId received (refused too)
        self._staged: set[int] = set()
        self._next_perm_id = 1_000_001
        self._exec_seq = 0
        #: Shares of a symbol that may still trade for clients' orders (absent: no limit); see the module doc.
        self.liquidity: dict[str, float] = {}
        #: Order refs whose cancel requests wait (a cancel is not instant at IB: the order can fill first),
        #: and the requests waiting, in arrival order; see :meth:`release_cancels`.
        self.cancels_held: set[str] = set()
        self.cancels_waiting: list[tuple[int, int]] = []

    # -- requests -------------------------------------------------------------------------

    def find(self, client_id: int, order_id: int) -> SimOrder | None:
        perm_id = self._keys.get((client_id, order_id))
        return self.orders.get(perm_id) if perm_id is not None else None

    def listing_of(self, order: SimOrder) -> Listing:
        return self.contracts.by_symbol(order.symbol)

    def next_order_id(self, client_id: int) -> int:
        """Above every id the client has used, refused orders' included: IB's nextValidId never goes back."""
        used = [oid for (cid, oid) in self._keys if cid == client_id]
        return max(max(used, default=0), self._highest_id.get(client_id, 0)) + 1

    def place(self, client_id: int, ticket: OrderTicket) -> None:
        highest = self._highest_id.get(client_id, 0)
        self._highest_id[client_id] = max(highest, ticket.order_id)
        existing = self.find(client_id, ticket.order_id)
        if existing is not None:
            self._modify(existing, ticket)
            return
        if ticket.order_id <= highest:
            # IB: a new order's id must be above every id the client used (refused orders' too).
            self.listener.order_error(client_id, ticket.order_id, 103, "Duplicate order id")
            return
        listing = self.contracts.match(ticket.con_id, ticket.symbol, ticket.sec_type,
                                       ticket.currency, ticket.exchange)
        problem = order_checks.refusal(ticket, listing)
        if problem:
            self.listener.order_error(client_id, ticket.order_id, *problem)
            return
        ticket.symbol = listing.symbol
        order = SimOrder(ticket=ticket, client_id=client_id, perm_id=self._new_perm_id(),
                         received_at=self.clock())
        self.orders[order.perm_id] = order
        self._keys[(client_id, ticket.order_id)] = order.perm_id
        for i, (reason, kind) in enumerate(self.rejects_pending):
            if kind is None or kind == ticket.order_type:
                del self.rejects_pending[i]
                self._reject(order, reason)
                return
        late = order_checks.past_auction_cutoff(ticket, order.received_at, self.session_close_at)
        if late:
            self._reject(order, late)
            return
        parent = self.find(client_id, ticket.parent_id) if ticket.parent_id else None
        if parent is not None and parent.is_done and parent.status != "Filled":
            # Attached to an order that is no longer working (refused or cancelled): refused too.
            self._reject(order, "Parent order is being cancelled.")
            return
        if parent is not None:
            parent.children.append(order.perm_id)
        if not ticket.transmit:
            self._staged.add(order.perm_id)
            return
        family = [order]
        if parent is not None and parent.perm_id in self._staged:
            family = [parent] + [self.orders[p] for p in parent.children]
        for member in family:
            self._staged.discard(member.perm_id)
            self._go_live(member)

    def cancel(self, client_id: int, order_id: int) -> None:
        order = self.find(client_id, order_id)
        if order is not None and order.ticket.order_ref in self.cancels_held:
            self.cancels_waiting.append((client_id, order_id))
            return
        if order is None:
            self.listener.order_error(client_id, order_id, 10147,
                                      f"OrderId {order_id} that needs to be cancelled is not found.")
            return
        if order.is_done:
            self.listener.order_error(
                client_id, order_id, 10148,
                f"OrderId {order_id} that needs to be cancelled cannot be cancelled, state: {order.status}.")
            return
        # A client's cancel: as the variations asked for, PendingCancel first, 202 before the final status,
        # ApiCancelled for Cancelled (runner/sim/variations.py).
        pending = self.variations.happens("pending_cancel")
        if pending:
            order.status = "PendingCancel"
            self.listener.order_updated(order)
        final = "ApiCancelled" if self.variations.happens("api_cancelled") else "Cancelled"
        self._cancel(order, notify_client=True, final=final, error_first=pending)

    def release_cancels(self) -> None:
        """Carry out the cancel requests held back, as they arrived (10148 for an order done meanwhile)."""
        self.cancels_held.clear()
        waiting, self.cancels_waiting = self.cancels_waiting, []
        for client_id, order_id in waiting:
            self.cancel(client_id, order_id)

    def cancel_all(self) -> None:
        for order in list(self.orders.values()):
            if not order.is_done:
                self._cancel(order, notify_client=True)

    def working(self) -> list[SimOrder]:
        return [o for o in self.orders.values() if not o.is_done and o.perm_id not in self._staged]

    # -- market events --------------------------------------------------------------------

    def on_bar_open(self, symbol: str, price: float) -> None:
        self.last_prices[symbol] = price
        candidates = self._active(symbol)
        for order in candidates:
            order.wait_for_next_bar = False
        for order in candidates:
            if order.is_working and not order.wait_for_next_bar:
                fill = matching.fill_at_open(order, price)
                if fill is not None:
                    self._fill(order, fill)

    def on_move(self, symbol: str, start: float, end: float) -> None:
        self.last_prices[symbol] = end
        for order in self._active(symbol):
            if order.is_working and not order.wait_for_next_bar and order.ticket.order_type != "MKT":
                fill = matching.fill_on_move(order, start, end)
                if fill is not None:
                    self._fill(order, fill)

    def close_session(self, close_time: float, closes: dict[str, float]) -> None:
        for symbol, close in closes.items():
            self.last_prices[symbol] = close
            for order in self._active(symbol):
                # Orders that arrived once the session had closed join the next auction.
                if (order.is_working and order.ticket.order_type in ("MOC", "LOC")
                        and order.received_at < close_time):
                    fill = matching.fill_at_auction(order, close)
                    if fill is not None:
                        self._fill(order, fill)
                    elif order.ticket.order_type == "LOC":
                        self._cancel(order, notify_client=False)
        for order in self.working():
            if order.ticket.tif in ("DAY", "") and order.received_at < close_time:
                self._cancel(order, notify_client=False)

    # -- internals ------------------------------------------------------------------------

    def _new_perm_id(self) -> int:
        self._next_perm_id += 1
        return self._next_perm_id

    def _parent(self, order: SimOrder) -> SimOrder | None:
        pid = order.ticket.parent_id
        return self.find(order.client_id, pid) if pid else None

    def _active(self, symbol: str) -> list[SimOrder]:
        """Working orders of a symbol whose parent (if any) has filled."""
        active = []
        for order in self.working():
            if order.symbol != symbol:
                continue
            parent = self._parent(order)
            if parent is not None and not _released_children(parent):
                continue
            active.append(order)
        return active

    def _go_live(self, order: SimOrder) -> None:
        parent = self._parent(order)
        waiting = parent is not None and not _released_children(parent)
        held = waiting or order.ticket.order_type in HELD_TYPES
        # IB reports every new order PreSubmitted first; one that is not held turns Submitted at once.
        order.status = "PreSubmitted"
        self.listener.order_updated(order)
        if order.perm_id not in self._warned and not order.filled:
            until = self.held_until(order, self.clock())
            if until and self.variations.happens("warn_399"):
                self._warned.add(order.perm_id)
                self.listener.order_error(order.client_id, order.order_id, 399, warning_399(order, until))
        if not held:
            order.status = "Submitted"
            self.listener.order_updated(order)
        # An order works from the next source bar's open, never inside the bar it arrived
        # in: a bar in progress (or a session past its closing auction) has moves the
        # client could not have known about when it decided. Auction orders are matched by
        # close_session, which does not look at this flag.
        order.wait_for_next_bar = True

    def _modify(self, order: SimOrder, ticket: OrderTicket) -> None:
        """The same orderId sent again: a modification of that order, never a new one (IB's rule). Only
        prices, quantity and the like change; a refused modification leaves the order working as it was."""
        problem = order_checks.modification_refusal(order, ticket, self.listing_of(order))
        if problem:
            self.listener.order_error(order.client_id, order.order_id, *problem)
            return
        old = order.ticket
        ticket.symbol, ticket.con_id = old.symbol, old.con_id
        order.ticket = ticket
        order.modifications += 1
        if ticket.quantity <= order.filled:
            ticket.quantity = max(ticket.quantity, order.filled)
        if order.perm_id in self._staged and ticket.transmit:
            self._staged.discard(order.perm_id)
            self._go_live(order)
        elif order.perm_id not in self._staged:
            self.listener.order_updated(order)

    def _reject(self, order: SimOrder, reason: str) -> None:
        order.status = self.reject_status
        order.completed_at = self.clock()
        order.completed_status = "Rejected"
        self.listener.order_error(order.client_id, order.order_id, 201, f"Order rejected - reason:{reason}")
        self.listener.order_updated(order)
        for child_id in order.children:   # attached orders go with a refused parent
            child = self.orders[child_id]
            if not child.is_done:
                self._cancel(child, notify_client=True)

    def _cancel(self, order: SimOrder, notify_client: bool, final: str = "Cancelled", error_first: bool = False) -> None:
        self._staged.discard(order.perm_id)
        order.status = final
        order.completed_at = self.clock()
        order.completed_status = "Cancelled"
        if notify_client and error_first:
            self.listener.order_error(order.client_id, order.order_id, 202, "Order Canceled - reason:")
        self.listener.order_updated(order)
        if notify_client and not error_first:
            self.listener.order_error(order.client_id, order.order_id, 202, "Order Canceled - reason:")
        for child_id in order.children:
            child = self.orders[child_id]
            if child.is_done:
                continue
            if order.filled == 0:
                self._cancel(child, notify_client)
            elif child.perm_id not in self._staged:
                # Part-filled, the rest cancelled: the attached orders protect what filled (module doc).
                child.ticket.quantity = min(child.ticket.quantity, order.filled + child.filled)
                self._go_live(child)

    def _fill(self, order: SimOrder, price: float) -> None:
        if order.status == "PreSubmitted":   # a stop elected: it works (Submitted) before it fills
            order.status = "Submitted"
            self.listener.order_updated(order)
        for quantity in self._split(order.remaining):
            available = self.liquidity.get(order.symbol)
            if available is not None:
                quantity = min(quantity, available)
                if quantity <= 1e-9:
                    break   # no more shares trade now: the rest works on (see the module doc)
                self.liquidity[order.symbol] = available - quantity
            self._execute(order, quantity, price)
            if order.is_done:
                break

    def _split(self, quantity: float) -> list[float]:
        parts = self.partial_fills
        if parts <= 1 and self.fill_lot and quantity > self.fill_lot:
            lots = int(quantity // self.fill_lot)
            rest = quantity - lots * self.fill_lot
            return [float(self.fill_lot)] * lots + ([rest] if rest > 1e-9 else [])
        if parts <= 1 or quantity < parts:
            return [quantity]
        base = float(int(quantity // parts))
        return [base] * (parts - 1) + [quantity - base * (parts - 1)]

    def _execute(self, order: SimOrder, quantity: float, price: float) -> None:
        now = self.clock()
        commission = self.commission.for_execution(quantity, order.commission_paid, order.filled + quantity)
        signed = quantity if order.is_buy else -quantity
        realized = self.account.apply_fill(order.symbol, signed, price, commission)
        order.record_fill(quantity, price)
        order.commission_paid += commission
        done = order.remaining <= 1e-9
        order.status = "Filled" if done else "Submitted"
        if done:
            order.completed_at, order.completed_status = now, "Filled"
        self._exec_seq += 1
        execution = Execution(
            exec_id=f"{order.perm_id:08x}.{self._exec_seq:08x}.01.01", perm_id=order.perm_id,
            order_id=order.order_id, client_id=order.client_id, symbol=order.symbol,
            side="BOT" if order.is_buy else "SLD", shares=quantity, price=price, time=now,
            cum_qty=order.filled, avg_price=order.avg_fill_price, order_ref=order.ticket.order_ref,
            commission=commission, realized_pnl=realized, account=self.account.account_id)
        self.account.executions.append(execution)
        self.listener.executed(order, execution)
        self.listener.positions_changed(order.symbol)
        self._after_fill(order, quantity)

    def _after_fill(self, order: SimOrder, quantity: float) -> None:
        if order.is_done:
            for child_id in order.children:
                child = self.orders[child_id]
                if not child.is_done and child.perm_id not in self._staged:
                    self._go_live(child)
        parent = self._parent(order)
        if parent is not None:
            siblings = [self.orders[p] for p in parent.children if p != order.perm_id]
            self._reduce(siblings, quantity)
        group = order.ticket.oca_group
        if group:
            others = [o for o in self.working() if o.ticket.oca_group == group and o is not order]
            if order.ticket.oca_type in (2, 3):
                self._reduce(others, quantity)
            else:
                for other in others:
                    self._cancel(other, notify_client=False)

    def _reduce(self, orders: list[SimOrder], quantity: float) -> None:
        for other in orders:
            if other.is_done:
                continue
            other.ticket.quantity = max(other.ticket.quantity - quantity, other.filled)
            if other.remaining <= 1e-9:
                self._cancel(other, notify_client=False)
            else:
                self.listener.order_updated(other)


def _released_children(parent: SimOrder) -> bool:
    """Whether the attached orders of ``parent`` work: it filled, or it filled in part and the rest ended."""
    return parent.status == "Filled" or (parent.is_done and parent.filled > 0)
