"""How :class:`runner.ib.broker.IBBroker` ties decisions to orders an earlier run (or connection) sent.

Contract:

- the journal is the memory across days: the gateway reports only today's
  executions and completed orders, so a decision whose orderRef the journal
  holds in a final state (or with fills) is bound to that record, never sent
  again;
- an order the gateway does not know although the journal says it was sent
  (lost as the socket dropped, expired, or refused) is never re-sent under
  the same orderRef: a new incarnation ``<orderRef>:r<n>`` is journaled and
  sent, and later runs follow the chain to its newest incarnation;
- a decision whose orderRef the gateway does not know, but which matches a
  working order of this bot that nothing holds (same symbol, side, type and
  quantity; e.g. exits sent on another bar than the replay re-creates them
  on), adopts that order;
- after each reconnect every journaled order that is not final and is
  unknown to the gateway is reconciled: still wanted by a strategy -> sent
  again as a new incarnation; held by nobody -> marked ``Lost`` with a
  warning;
- fills made while no run was connected are inferred by runner/ib/broker_away.py.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import backtrader as bt

from runner.ib import events
from runner.ib.orders import DEFAULT_MIN_TICK, OrderSpec

JOURNAL_DONE = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive", "Rejected"})
#: Statuses a client library gives an order before the gateway has acknowledged it.
NOT_AT_GATEWAY = frozenset({"", "PendingSubmit", "ApiPending", "Intent", "Sent", "Lost"})
REJECT_MARK = "error "   # journal messages of error-ended orders start with "error <code>"


class OrderAdoption:
    # -- contract details ---------------------------------------------------------------
    def _min_tick(self, data) -> float:
        symbol = self._symbol(data)
        ticks = self.__dict__.setdefault("_ticks", {})
        if symbol not in ticks:
            tick = None
            contract = getattr(data, "contract", None)
            if getattr(self.store, "_loop", None) is not None and contract is not None:
                try:
                    tick = self.store.call(self.store.min_tick(contract), timeout=15)
                except Exception as exc:  # the order still goes out, on the US-stock tick
                    self.log.warning(f"{symbol}: no contract details for the minimum tick ({exc!r}); using "
                                     f"{DEFAULT_MIN_TICK}")
            ticks[symbol] = tick or DEFAULT_MIN_TICK
        return ticks[symbol]

    # -- what the gateway reported at connect ------------------------------------------------
    def _journal_gateway_statuses(self, known: dict[str, str]) -> None:
        """Completed orders the gateway reports at connect (today's) carry their final status into the journal
        (the library reports them without a status event, and a kill may have come before it was journaled),
        and so does an order whose executions the journal holds in full."""
        journal = self.store.journal
        if journal is None:
            return
        for ref, status in known.items():
            if status not in JOURNAL_DONE:
                continue
            row = journal.order(ref)
            if row is not None and row["status"] not in JOURNAL_DONE:
                filled = sum(f["shares"] for f in journal.fills(ref))
                journal.record_status(ref, status, filled, max(float(row["quantity"]) - filled, 0.0),
                                      message="reported by the gateway at connect")
        # A run killed between an order's last execution and its Filled status: the fills tell.
        for row in journal.unfinished_orders():
            filled = sum(f["shares"] for f in journal.fills(row["order_ref"]))
            if row["status"] != "Intent" and filled >= float(row["quantity"]) - 1e-9:
                journal.record_status(row["order_ref"], "Filled", filled, 0.0,
                                      message="filled: the journal holds all its executions")

    # -- incarnations of an orderRef ------------------------------------------------------
    def _latest_incarnation(self, ref: str) -> str:
        """The newest ``<ref>:r<n>`` the journal or the gateway knows (``ref`` itself if none)."""
        latest, n = ref, 1
        while self.store.journal.order(f"{ref}:r{n}") is not None or f"{ref}:r{n}" in self.gateway_known:
            latest, n = f"{ref}:r{n}", n + 1
        return latest

    def _next_incarnation(self, ref: str) -> str:
        base, _, number = ref.rpartition(":r")
        if base and number.isdigit():
            return f"{base}:r{int(number) + 1}"
        return f"{ref}:r1"

    def _resend_spec(self, spec: OrderSpec, log) -> OrderSpec:
        new_ref = self._next_incarnation(spec.orderRef)
        log.warning(f"sent by an earlier run or connection but unknown to the gateway (lost, expired or refused); "
                    f"sending it again as {new_ref} (an orderRef never goes out twice)")
        row = self.store.journal.order(spec.orderRef)
        if row is not None and row["status"] not in JOURNAL_DONE and row["status"] != "Lost":
            self.store.journal.record_status(spec.orderRef, "Lost", message=f"unknown to the gateway; re-sent as {new_ref}")
        return dataclasses.replace(spec, orderRef=new_ref)

    def _rebind(self, order: bt.Order, old: str, new: str) -> None:
        self.orders.pop(old, None)
        self.orders[new] = order
        self.refs[order.ref] = new
        order.addinfo(orderRef=new)

    def _known(self, ref: str) -> bool:
        return self.gateway_known.get(ref, "") not in NOT_AT_GATEWAY

    def _entry_unfilled(self, order: bt.Order) -> bool:
        """True for an exit sent with an entry (``entry_ref``) that has not filled: it protects nothing yet,
        so it never takes over a working exit of the position held (which belongs to a filled entry)."""
        entry = self.by_bt_ref.get(order.info.get("entry_ref"))
        return entry is not None and entry.status != bt.Order.Completed

    # -- adopting working orders ----------------------------------------------------------
    def _adopt_working(self, order: bt.Order, spec: OrderSpec) -> str | None:
        """A working order of this bot that no decision holds and that does what ``order`` would."""
        held = self.positions[self._symbol(order.data)].size
        if not held or (held > 0) == (order.created.size > 0):
            return None   # only exits of the position held are adopted
        bound = set(self.orders)
        for ref in self.gateway_open:
            if ref in bound:
                continue
            row = self.store.journal.order(ref)
            if row is None:
                continue
            if (row["symbol"], row["action"], row["order_type"], float(row["quantity"])) == (
                    self._symbol(order.data), spec.action, spec.orderType, float(spec.totalQuantity)):
                self.log.bind(order_ref=ref).info(f"adopting the working {spec.orderType} {spec.action} "
                                                  f"{spec.totalQuantity:g} for decision {spec.orderRef}")
                self._rebind(order, spec.orderRef, ref)
                return ref
        return None

    # -- binding to what the gateway (or the journal) says ------------------------------------
    def _bind_historical(self, order: bt.Order, ref: str) -> bt.Order:
        """A decision an earlier run already sent: attach it to what the gateway did, never send it."""
        if self.refs.get(order.ref) != ref:
            self._rebind(order, self.refs.get(order.ref), ref)
        self.sent_earlier.add(ref)
        order.accept(self)
        self.notify(order)
        fills = [(events.Execution(ref, f["exec_id"], dt.datetime.fromisoformat(f["time"]), f["symbol"], f["side"],
                                   f["shares"], f["price"], True), f["commission"] or 0.0)
                 for f in self.store.journal.fills(ref)]
        fills += self.unowned.pop(ref, [])
        for m, commission in sorted(fills, key=lambda fc: fc[0].time):
            if m.execId in self.applied:
                continue
            book = m.execId not in self.booked
            self.booked.add(m.execId)
            self.seen_execs.add(m.execId)
            self._execute(order, m, commission, book)
        status = self.gateway_known.get(ref)
        if order.alive() and ref not in self.gateway_open and status in ("Cancelled", "ApiCancelled", "Inactive",
                                                                          "Rejected"):
            self.orders.pop(ref, None)
            why = self._journaled_error(ref)
            if status in ("Inactive", "Rejected") or why:
                self._reject(order, f"refused in an earlier run: {why or status}")
            else:
                order.cancel()
                self.notify(order)
        return order

    def _journaled_error(self, ref: str) -> str | None:
        for row in reversed(list(self.store.journal.statuses(ref))):
            message = row["message"] or ""
            if message.startswith(REJECT_MARK):
                return message
        return None

    def _settle_replayed_orders(self) -> None:
        """Orders the replay of history left working and the gateway never got.

        One that would reduce the position the account holds (a stop or exit protecting it) is sent
        now (a missing exit is re-created); one that would open or add to a position acted on a stale
        signal and is cancelled.
        """
        deferred, self.deferred = self.deferred, []
        for order, spec in deferred:
            if not order.alive():
                continue
            held = self.positions[self._symbol(order.data)].size
            reduces = (held and (held > 0) != (order.created.size > 0) and abs(order.created.size) <= abs(held)
                       and not self._entry_unfilled(order))
            log = self.log.bind(order_ref=spec.orderRef)
            if reduces:
                if self.store.journal.order(spec.orderRef) is not None:
                    spec = self._resend_spec(spec, log)
                    self._rebind(order, self.refs[order.ref], spec.orderRef)
                log.info("exit from the replay of history protects the position held and is missing at the "
                         "gateway: sending it")
                self.store.journal_intent(spec, self._symbol(order.data))
                self.store.place(order.data.contract, [spec])
            else:
                self._drop_past_decision(order, spec)
        # What the journal still calls working that the gateway does not know and no decision holds.
        journal = self.store.journal
        for row in journal.unfinished_orders():
            ref = row["order_ref"]
            if (row["status"] == "Intent" or ref in self.orders
                    or self.gateway_known.get(ref, "") not in NOT_AT_GATEWAY):
                continue
            if row["account"] and self.store.account and row["account"] != self.store.account:
                continue
            self.log.bind(order_ref=ref).info("journaled as sent by an earlier run, unknown to the gateway and held "
                                              "by no decision: marked Lost")
            journal.record_status(ref, "Lost", message="unknown to the gateway at a restart; no decision holds it")

    def _end_part_filled_entries(self) -> None:
        """An entry an earlier run sent that filled in part: what filled is the position, the rest is ended.

        The playbook rule (strategies/playbook.py, an entry that ends part-filled): the exits are resized to
        what filled. An entry decided on a past bar is never left to go on filling after a restart (the
        decision was for that bar's open or close), so its remainder is cancelled at the gateway if it still
        works there, or, unknown to the gateway (expired or cancelled while no run was connected; the gateway
        reports only today's orders), journaled as Cancelled with what it filled. Either way the playbook
        hears "Canceled after N of M", withdraws the exits attached to the whole entry and sends a stop and
        target for exactly the filled quantity. Checked on every bar once the replay of history has ended
        (a decision bound on the first live bar is one too).
        """
        journal = self.store.journal
        for ref in self.sent_earlier - self.restart_checked:
            order = self.orders.get(ref)
            if (order is None or ref in self.restart_checked or not order.alive()
                    or not order.executed.size or self._is_exit(order)):
                continue
            self.restart_checked.add(ref)
            log = self.log.bind(order_ref=ref)
            filled, wanted = abs(order.executed.size), abs(order.created.size)
            if ref in self.gateway_open:
                log.warning(f"entry sent by an earlier run filled {filled:g} of {wanted:g} and still works: "
                            f"cancelling the rest; the {filled:g} filled are the position, its exits resized to it")
                self._request_cancel(ref)
                continue
            log.warning(f"entry sent by an earlier run filled {filled:g} of {wanted:g} and no longer works at the "
                        f"gateway: the {filled:g} filled are the position, its exits resized to it")
            row = journal.order(ref)
            if row is not None and row["status"] not in JOURNAL_DONE:
                journal.record_status(ref, "Cancelled", filled, max(wanted - filled, 0.0),
                                      message="part-filled; the rest not working at the gateway at a restart")
            self.orders.pop(ref, None)
            order.cancel()
            self.notify(order)

    def _drop_past_decision(self, order: bt.Order, spec: OrderSpec) -> bt.Order:
        """A decision of the replay of history that the gateway never received: cancelled, never sent late."""
        self.log.bind(order_ref=spec.orderRef).info("decision on a past bar that the gateway never received; not sent")
        self.orders.pop(spec.orderRef, None)
        row = self.store.journal.order(spec.orderRef)
        if row is not None and row["status"] not in JOURNAL_DONE:
            self.store.journal.record_status(spec.orderRef, "Cancelled", message="decided on a past bar; never sent again")
        order.cancel()
        self.notify(order)
        return order

    # -- after a reconnect ----------------------------------------------------------------
    def _reconcile_journal(self, known: dict[str, str]) -> None:
        """Every journaled order not final and unknown to the gateway: re-send if wanted, else mark it Lost."""
        journal = self.store.journal
        held_back = {s.orderRef for _, specs in self.held for s in specs}
        for row in journal.unfinished_orders():
            ref = row["order_ref"]
            if row["status"] == "Intent" or ref in held_back or known.get(ref, "") not in NOT_AT_GATEWAY:
                continue
            if row["account"] and self.store.account and row["account"] != self.store.account:
                continue
            order = self.orders.get(ref)
            log = self.log.bind(order_ref=ref)
            if order is not None and order.alive() and not order.executed.size:
                spec = self._spec_from_row(row)
                spec = self._resend_spec(spec, log)
                journal.record_status(ref, "Lost", message="unknown to the gateway after reconnecting; re-sent as "
                                                           + spec.orderRef)
                self._rebind(order, ref, spec.orderRef)
                self.store.journal_intent(spec, row["symbol"])
                self.store.place(order.data.contract, [spec])
            else:
                log.warning("journaled as sent but unknown to the gateway after reconnecting, and no strategy "
                            "holds it: marked Lost")
                journal.record_status(ref, "Lost", message="unknown to the gateway after reconnecting")

    @staticmethod
    def _spec_from_row(row) -> OrderSpec:
        return OrderSpec(orderRef=row["order_ref"], action=row["action"], totalQuantity=float(row["quantity"]),
                         orderType=row["order_type"], lmtPrice=row["limit_price"], auxPrice=row["aux_price"],
                         tif=row["tif"] or "GTC", ocaGroup=row["oca_group"] or "",
                         ocaType=1 if row["oca_group"] else 0, parentRef=None, transmit=True)
