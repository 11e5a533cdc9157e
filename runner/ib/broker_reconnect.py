"""How :class:`runner.ib.broker.IBBroker` follows the connection: 1100/1101/1102 and the reconciliation after a
reconnect.

- connectivity lost (1100): new orders are held; restored: they are sent;
- after a reconnect, executions missed while away are applied to their
  orders, then the account's positions and cash (which include them) are
  taken, this bot's open orders' statuses applied, and every journaled order
  that is not final and unknown to the gateway reconciled
  (:meth:`OrderAdoption._reconcile_journal`).
"""
from __future__ import annotations

import time

import backtrader as bt

from runner.ib import events


class ReconnectFollowing:
    def _on_connectivity(self, m: events.Connectivity) -> None:
        if m.state == "lost":
            if not self.paused:
                self.lost_since = time.monotonic()
                self.alerts_while_lost = 0
            self.paused = True
        elif m.state in ("restored", "restored_data_lost", "reconnected"):
            if self.paused and self.alerts_while_lost:
                self.log.warning(f"gateway connectivity back after {time.monotonic() - self.lost_since:,.0f} s")
            self.paused = False
            held, self.held = self.held, []
            for contract, specs in held:
                self.store.place(contract, specs)

    def _on_reconciled(self, m: events.Reconciled) -> None:
        """After a reconnect: apply executions missed while away to their orders, then take the
        account's positions (which already include them)."""
        self.gateway_open = dict(m.open_orders)
        self.gateway_known.update(m.known_orders)
        self._journal_gateway_statuses(m.known_orders)
        self._book_all()   # received before the drop: book them as usual first
        self.booked |= m.booked_execs
        for e in m.executions:
            if e.execId not in self.seen_execs:
                self.seen_execs.add(e.execId)
                self._book(e)
        for symbol, (qty, cost) in m.positions.items():
            if self.positions[symbol].size != qty:
                self.log.warning(f"{symbol}: position {self.positions[symbol].size} differs from the account's "
                                 f"{qty} after reconnecting; using the account's")
                self.positions[symbol] = bt.Position(qty, cost)
        if m.cash is not None and abs(m.cash - self.cash) > 0.01:
            self.log.info(f"cash {self.cash:,.2f} -> {m.cash:,.2f} from the account after reconnecting")
            self.cash = m.cash
        for ref in list(self.orders):
            status = m.open_orders.get(ref)
            if status is not None:
                self._on_status(status)
        self._reconcile_journal(m.known_orders)

    def _on_position(self, m: events.Position) -> None:
        pass   # positions follow fills; the account's figure is journaled by the store
