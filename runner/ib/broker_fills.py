"""The gateway's order events inside :class:`runner.ib.broker.IBBroker`: statuses, executions, commissions.

IB statuses map to backtrader's; a fill is counted once per ``execId`` and
booked with the commission from IB's report (or without one after
``COMMISSION_WAIT`` seconds). The mixin uses the broker's ``orders``,
``errors``, ``executions``, ``commissions``, ``awaiting``, ``positions`` and
``notify``.
"""
from __future__ import annotations

import time

import backtrader as bt

from runner.ib import events
from runner.ib.feed_positions import feed_of_ref
from runner.ib.sessions import NEW_YORK

COMMISSION_WAIT = 2.0   # seconds a fill waits for its commission report before it is booked without one
REJECT_CODES_MARGIN = ("margin", "insufficient", "equity")
TERMINAL_UNFILLED = frozenset({"Cancelled", "ApiCancelled", "Inactive", "Rejected"})
#: 202 confirms our own cancel; 10147 answers a cancel of an order the gateway no longer has.
OWN_CANCEL_CODES = frozenset({202, 10147})
#: "cannot be cancelled": 10148 (state named) and 161 (older gateways) answer a cancel that came too late;
#: the libraries call the order Cancelled, but it is filled or still working, and its fills decide.
IGNORED_CANCEL_ERRORS = events.IGNORED_CANCEL_ERRORS


class GatewayFills:
    # -- messages from the store ------------------------------------------------------
    def _on_status(self, m: events.OrderStatus) -> None:
        if m.errorCode in IGNORED_CANCEL_ERRORS:
            return   # "cannot be cancelled, state: Filled": the library calls it Cancelled; its fill decides
        if m.errorCode and m.errorCode not in OWN_CANCEL_CODES:
            self.errors[m.orderRef] = (m.errorCode, m.message)
        order = self.orders.get(m.orderRef)
        if order is None or not order.alive():
            return
        if m.status in ("PreSubmitted", "Submitted") and order.status == bt.Order.Submitted:
            order.accept(self)
            self.notify(order)
        elif m.status in TERMINAL_UNFILLED:
            # Whatever ``remaining`` says: the library's own cancel after an error (110, 201) and the
            # gateway's Inactive both arrive with remaining == 0.
            self._finish_unfilled(order, m)
        elif m.status == "Filled" and m.filled:
            self.gateway_filled[m.orderRef] = float(m.filled)
            if self._complete_if_cut(order):
                self.notify(order)

    def _complete_if_cut(self, order: bt.Order) -> bool:
        """The gateway says Filled at fewer shares than the order was sent with, and those are booked: IB cut
        it (an attached exit is cut to what its parent filled when the parent's rest is cancelled). The order is
        complete: the strategy hears it so, and its OCA siblings go."""
        ref = order.info.get("orderRef")
        filled = self.gateway_filled.get(ref)
        if (filled is None or not order.alive() or not order.executed.size
                or abs(order.executed.size) < filled - 1e-9):
            return False
        self.log.bind(order_ref=ref).info(f"{ref}: filled {filled:g} of the {abs(order.created.size):g} sent: the "
                                          f"gateway cut it to what its parent filled")
        order.completed()
        self.orders.pop(ref, None)
        self._cancel_siblings(order)
        return True

    def _finish_unfilled(self, order: bt.Order, m: events.OrderStatus) -> None:
        # Fills reported before the cancel are booked first (the strategy hears of a fill before the cancel
        # of its OCA siblings), each with its commission: a cancel arriving while a commission report is on
        # its way (the gateway sends it 100-300 ms after the execution) waits for it, or COMMISSION_WAIT.
        if any(exec_id not in self.commissions for exec_id in self.awaiting):
            self.unfilled_waiting.append(m)
            return
        self._book_all()
        if not order.alive():
            return
        code, text = self.errors.get(m.orderRef, (m.errorCode, m.message))
        self.orders.pop(m.orderRef, None)
        self.cancelling.discard(m.orderRef)
        if m.status in ("Inactive", "Rejected") or (code and code not in OWN_CANCEL_CODES):
            margin = any(word in (text or "").lower() for word in REJECT_CODES_MARGIN)
            # A gateway error was said once already, at its level, by the store (library_noise): not again here.
            self._reject(order, f"IB error {code}: {text}" if code else f"the gateway made the order {m.status}",
                         margin, level="DEBUG" if code else "ERROR")
        else:
            order.cancel()
            self.notify(order)
        self._cancel_siblings(order)

    def _on_execution(self, m: events.Execution) -> None:
        if m.execId in self.seen_execs:
            return
        self.seen_execs.add(m.execId)
        self.awaiting[m.execId] = (time.monotonic() + COMMISSION_WAIT, m)

    def _on_commission(self, m: events.Commission) -> None:
        if m.execId in self.commissions:
            return
        self.commissions[m.execId] = m.commission
        if m.execId in self.awaiting:
            self._book_ready()
        elif m.execId in self.booked_here:
            self.cash -= m.commission   # the fill was booked before its (late) report

    def _book_ready(self) -> None:
        """Book waiting fills in the order they were executed: each once its commission report has
        come (reports may arrive in another order) or it has waited ``COMMISSION_WAIT`` seconds."""
        now = time.monotonic()
        while self.awaiting:
            exec_id, (deadline, message) = next(iter(self.awaiting.items()))
            if exec_id not in self.commissions and now < deadline:
                break
            self.awaiting.pop(exec_id)
            self._book(message)
        if not self.awaiting and self.unfilled_waiting:
            waiting, self.unfilled_waiting = self.unfilled_waiting, []
            for message in waiting:
                self._on_status(message)

    def _await_commissions(self) -> None:
        """A cancel is waiting for a fill's commission report (see :meth:`_finish_unfilled`): wait for the
        report here, on this bar, up to the fill's ``COMMISSION_WAIT``; the strategy must hear of the fill
        and the cancel before the next bar, which after a close exit is the next session's."""
        while self.unfilled_waiting and self.awaiting:
            pending = [deadline for exec_id, (deadline, _) in self.awaiting.items() if exec_id not in self.commissions]
            left = min(pending, default=0.0) - time.monotonic()
            if left <= 0:
                break
            self.store.pump(timeout=min(left, 0.05))
            self._book_ready()
        self._book_ready()

    def filled_at_gateway(self, order: bt.Order) -> float:
        """Shares of ``order`` executed at the gateway so far: those booked (``order.executed``) and those whose
        execution has come and waits for its commission report (booked within ``COMMISSION_WAIT``)."""
        ref = order.info.get("orderRef")
        waiting = sum(m.shares for _, m in self.awaiting.values() if m.orderRef == ref and m.execId not in self.applied)
        return abs(order.executed.size) + waiting

    def _book_all(self) -> None:
        """Book every waiting fill now (before a cancel or a flatten that must see them)."""
        for exec_id in list(self.awaiting):
            self._book(self.awaiting.pop(exec_id)[1])

    def _book(self, m: events.Execution) -> None:
        """Account for a fill once (position and cash) and execute its order once."""
        commission = self.commissions.get(m.execId, 0.0)
        book = m.execId not in self.booked
        self.booked.add(m.execId)
        if book:
            self.booked_here.add(m.execId)
        order = self.orders.get(m.orderRef)
        if order is None:
            if book:
                signed = m.shares if m.side == "BOT" else -m.shares
                self.positions[m.symbol].update(signed, m.price)
                own = self.feed_positions.get(feed_of_ref(m.orderRef, self.feed_of_strategy))
                if own is not None:   # a symbol with two feeds: the feed of the playbook the orderRef names
                    own.update(signed, m.price)
                self.cash -= signed * m.price + commission
            # the replay of history may yet re-create its order; it gets the fill then
            self.unowned[m.orderRef].append((m, commission))
            self.log.bind(order_ref=m.orderRef).info(f"fill of an order no strategy holds (yet): {m.side} "
                                                     f"{m.shares} {m.symbol} @ {m.price}")
            return
        self._execute(order, m, commission, book)

    def _execute(self, order: bt.Order, m: events.Execution, commission: float, book: bool) -> None:
        """Execute ``order`` with fill ``m``; ``book``: also move position and cash (not yet in the account's)."""
        self.applied.add(m.execId)
        signed = m.shares if m.side == "BOT" else -m.shares
        price = m.price
        remaining = abs(order.executed.remsize) if order.executed.size else abs(order.created.size)
        if m.shares > remaining + 1e-9:
            self.log.warning(f"fill of {m.shares} exceeds the order's remaining {remaining}; booking the remaining")
            signed = remaining if signed > 0 else -remaining
        pos = self.positions[self._symbol(order.data)]
        pprice_orig = pos.price
        own = self.feed_positions.get(order.data._name)
        if own is not None:   # a symbol with two feeds: the order's playbook sees its own feed's position
            pprice_orig = own.price
        if book:
            psize, pprice, opened, closed = pos.update(signed, price)
            if own is not None:
                psize, pprice, opened, closed = own.update(signed, price)
            self.cash -= signed * price + commission
        else:   # already in the account's positions and cash
            psize, pprice = pos.size, pos.price
            opened, closed = signed, 0.0
        pnl = -closed * (price - pprice_orig) if closed else 0.0
        total = abs(opened) + abs(closed) or 1.0
        order.execute(bt.date2num(m.time.astimezone(NEW_YORK).replace(tzinfo=None)), signed, price,
                      closed, closed * pprice_orig, commission * abs(closed) / total,
                      opened, opened * price, commission * abs(opened) / total,
                      0.0, pnl, psize, pprice)
        if order.executed.remsize:
            order.partial()
            self._complete_if_cut(order)
        else:
            order.completed()
            self.orders.pop(order.info.get("orderRef"), None)
            self._move_attached_exits(order)
            if book:
                self._cancel_siblings(order)
        self.notify(order)
