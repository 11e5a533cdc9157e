"""Exits a playbook sends with its entry, inside :class:`runner.ib.broker.IBBroker`.

A playbook sends its stop and target with a next-open entry, tagged
``entry_ref`` (the entry's backtrader ref), and the entry carries ``anchor``
(the decision close the exits were measured from). Here they are:

* attached to the entry (IB ``parentId``) while it has not filled, so the
  gateway holds them until it fills and cancels them with a refused entry;
  sent on their own they would work before the entry filled, and a refused
  entry would leave them to open a position of their own. The entry, which
  announces them (``exits_follow``), is not transmitted before they are given:
  the three reach the gateway as one bracket (runner/ib/broker_held_entries.py);
* moved with the entry's fill, in place at the gateway (the same order sent
  again with the new price), keeping their distance from the fill as the
  backtest broker does (runner/backtest/broker.py). The playbook then sees
  them where it expects them and does not replace them. The journal records
  the move as a ``Modified`` status row, orders.csv as a ``Modified`` row:
  a modification, never a second order under the same orderRef. A run
  killed between the entry's fill and that move leaves them working at the
  decision's prices: the restart, replaying the fill, moves them then.

The mixin uses the broker's ``orders``, ``by_bt_ref``, ``refs``, ``deferred``,
``held``, ``store`` and ``_min_tick``.
"""
from __future__ import annotations

import dataclasses

import backtrader as bt

from runner.ib.orders import order_spec, put_on_tick


def _fill_shift(entry: bt.Order) -> float:
    """How far the entry filled from the decision price its exits were measured from (0: unknown)."""
    anchor = entry.info.get("anchor")
    if anchor is None or not entry.executed.price:
        return 0.0
    return entry.executed.price - anchor


class AttachedExits:
    def _unfilled_entry_of(self, order: bt.Order) -> str | bool | None:
        """The orderRef to attach an exit to while the entry it was sent with has not filled.

        A playbook sends its stop and target with a next-open entry (``entry_ref`` names it). Sent on
        their own they would work at the gateway before the entry fills, and a refused entry would leave
        them to open a position of their own (a gap through the target). As IB attached orders (the
        entry their parent) the gateway holds them until the entry fills and cancels them if it does
        not. False: the entry was refused before it was sent; None: nothing to attach to.
        """
        entry = self.by_bt_ref.get(order.info.get("entry_ref"))
        if entry is None:
            return None
        if entry.status in (bt.Order.Submitted, bt.Order.Accepted) and self.refs.get(entry.ref) in self.orders:
            return self.refs[entry.ref]
        if entry.status in (bt.Order.Rejected, bt.Order.Margin, bt.Order.Canceled):
            return False
        return None

    def _follow_filled_entry(self, order: bt.Order) -> None:
        """An exit given after its entry filled (a restart replays the entry's fill first): moved now."""
        entry = self.by_bt_ref.get(order.info.get("entry_ref"))
        if entry is None or entry.status != bt.Order.Completed or order.created.price is None:
            return
        shift = _fill_shift(entry)
        if shift:
            order.created.price += shift
            order.price = order.created.price

    def _move_attached_exits(self, entry: bt.Order) -> None:
        """The entry filled: its attached exits keep their distance from the fill."""
        shift = _fill_shift(entry)
        if not shift:
            return
        for ref, exit_order in list(self.orders.items()):
            if (exit_order.info.get("entry_ref") != entry.ref or exit_order.created.price is None
                    or not exit_order.alive()):
                continue
            exit_order.created.price += shift
            exit_order.price = exit_order.created.price
            put_on_tick(exit_order, self._min_tick(exit_order.data))
            if any(d is exit_order for d, _ in self.deferred):
                continue   # not sent yet: it goes out at the moved price
            moved = order_spec(exit_order, ref, min_tick=self._min_tick(exit_order.data))
            waiting = [(contract, specs) for contract, specs in self.held if any(s.orderRef == ref for s in specs)]
            if waiting:   # held while the gateway is unreachable: sent later at the moved price
                for _, specs in waiting:
                    specs[:] = [dataclasses.replace(s, lmtPrice=moved.lmtPrice, auxPrice=moved.auxPrice)
                                if s.orderRef == ref else s for s in specs]
                continue
            self.store.modify_prices(moved)
            note = exit_order.clone()   # orders.csv: a row saying the working order was modified, not re-sent
            note.modified = True
            self.notifs.append(note)


    def _move_unmoved_exit(self, order: bt.Order, spec, row) -> None:
        """An exit working at the gateway whose entry filled, bound at a restart: if the journal says it still
        works at other prices than the fill moved it to (a run killed between the entry's fill and the move),
        it is moved now, as the move would have (IB's modification, journaled as ``Modified``)."""
        entry = self.by_bt_ref.get(order.info.get("entry_ref"))
        if (row is None or entry is None or entry.status != bt.Order.Completed or spec.orderRef not in self.gateway_open
                or not _fill_shift(entry)):
            return
        def differs(journaled, moved):
            return moved is not None and (journaled is None or abs(float(journaled) - moved) > 1e-9)
        if not (differs(row["limit_price"], spec.lmtPrice) or differs(row["aux_price"], spec.auxPrice)):
            return
        self.log.bind(order_ref=spec.orderRef).warning(
            f"exit working at the price it was sent at ({row['limit_price'] or row['aux_price']:g}); its entry "
            f"filled while no run followed it: moved with the fill to {spec.lmtPrice or spec.auxPrice:g}")
        self.store.modify_prices(spec)
        note = order.clone()   # orders.csv: a row saying the working order was modified, not re-sent
        note.modified = True
        self.notifs.append(note)
