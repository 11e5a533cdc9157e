"""An entry held until the exits it announces have been given, inside :class:`runner.ib.broker.IBBroker`.

A playbook's next-open entry announces how many exits it sends with it (``info.exits_follow``: its stop
and target, tagged ``entry_ref``). Sent at once, the entry would be live at the gateway before its exits,
and a run killed in between would leave it to fill unprotected. So the broker sends the entry and its
exits as one IB bracket: the entry with ``transmit=False``, its exits attached after it (``parentId``),
the last one given with ``transmit=True``; IB (and the simulated gateway) holds a chain until its last
member arrives. All of them are journaled before the first is sent, as one order is.

* An exit given counts whatever becomes of it (refused, withdrawn): once all the announced exits have
  been given, the group goes out; an exit refused here leaves the ones given, and the entry, to go.
* An entry whose exits never come is not lost: whatever is still held goes out at the end of the
  strategy's cycle (:class:`SendHeldOrders`, added by the paper session) or, at the latest, at the
  broker's next tick.
* The gateway unreachable (1100): the whole group is held and sent together when it is back.

The mixin uses the broker's ``bracket``, ``held``, ``paused``, ``store``, ``log`` and ``_symbol``.
"""
from __future__ import annotations

import dataclasses

import backtrader as bt

from runner.ib.orders import OrderSpec


class HeldEntries:
    def _init_held_entries(self) -> None:
        self.exits_due: dict[int, int] = {}   # bt ref of an entry held in ``bracket`` -> exits still to come

    def _hold_for_exits(self, order: bt.Order, spec: OrderSpec) -> OrderSpec:
        """An entry announcing its exits (or one of them): not transmitted until the last has been given."""
        announced = order.info.get("exits_follow")
        if announced and order.parent is None and spec.parentRef is None:
            self.exits_due[order.ref] = int(announced)
            return dataclasses.replace(spec, transmit=False)
        if order.info.get("entry_ref") in self.exits_due:
            return dataclasses.replace(spec, transmit=False)   # the group goes out with the last exit
        return spec

    def _exit_given(self, order: bt.Order) -> None:
        """Count an exit of a held entry, whatever became of it; the last one sends the group."""
        entry = order.info.get("entry_ref")
        if entry not in self.exits_due:
            return
        self.exits_due[entry] -= 1
        if self.exits_due[entry] <= 0:
            del self.exits_due[entry]
            self._send_bracket()

    def flush_held_orders(self) -> None:
        """The end of a strategy's cycle: an entry whose announced exits did not all come goes out now."""
        if self.bracket:
            if self.exits_due:
                self.log.warning("entry held for exits that were not all given: sending what was given")
            self.exits_due.clear()
            self._send_bracket()

    def _send_bracket(self) -> None:
        """Journal and send (or hold, while the gateway is unreachable) the orders collected in ``bracket``,
        the last one transmitting the chain."""
        group, self.bracket = self.bracket, []
        if not group:
            return
        last_order, last = group[-1]
        if not last.transmit:
            group[-1] = (last_order, dataclasses.replace(last, transmit=True))
        for o, s in group:
            self.store.journal_intent(s, self._symbol(o.data))
        contract = last_order.data.contract
        specs = [s for _, s in group]
        if self.paused:
            self.log.bind(order_ref=specs[0].orderRef).warning(
                "gateway connectivity lost (1100): order held until it is restored")
            self.held.append((contract, specs))
        else:
            self.store.place(contract, specs)


class SendHeldOrders(bt.Analyzer):
    """Runs after each strategy's ``next``: what its broker still holds of that cycle goes out."""

    def next(self):
        flush = getattr(self.strategy.broker, "flush_held_orders", None)
        if flush is not None:
            flush()
