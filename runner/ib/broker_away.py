"""Fills made while no run was connected, inferred into the journal by :class:`runner.ib.broker.IBBroker`.

Contract:

- at start (the broker's first bar, once the feeds have backfilled, before anything of this run is
  booked), a position the journal's fills do not explain (orders that filled on a day no run was
  connected: the gateway no longer reports those executions) is traced to the journal's unfinished orders
  of that symbol that the gateway does not report, newest first (an attached exit only once its parent
  filled); they are journaled as filled (``inferred:<orderRef>``) with a warning, so the strategy follows
  them; only the fills in the account's snapshot (``booked``) count as explaining it;
- what the gateway reports decides first: an order it reports done today is not a candidate, one still
  working counts for what its open order says filled;
- of an OCA group gone from the gateway (a stop and a target) only one filled: the bars the feeds
  backfilled since the orders worked say which (runner/ib/away_fills.py: the level reached first; a bar
  reaching both is taken as the stop, the conservative choice, and said to be ambiguous), at its price
  (the bar's open if it gapped through); with no bar reaching any of them the newest is taken, with a
  warning that it is a guess; the others are journaled Cancelled by the group;
- every inferred fill's journal message says how it was inferred; its time is the bar's the verdict found
  (in UTC, as the gateway's executions), else the time it was inferred.
"""
from __future__ import annotations

import collections
import datetime as dt

from runner.ib import away_fills


class FillsWhileAway:
    # -- fills nobody saw ----------------------------------------------------------------
    def _infer_fills_while_away(self) -> None:
        """Journal as filled the unfinished orders that explain a position the journal's fills do not.

        Run once the feeds have backfilled (the broker's first ``next``, before anything of this run is
        booked): only the fills in the account's snapshot (``booked``) count, so an execution that arrived
        since the connect is not taken for one the snapshot's positions hold."""
        journal = self.store.journal
        if journal is None:
            return
        explained = self._booked_positions()
        unfinished = list(reversed(journal.unfinished_orders()))   # newest first: the order sent last filled
        for symbol in sorted(set(explained) | {s for s, p in self.positions.items() if p.size}):
            missing = self.positions[symbol].size - explained[symbol]
            if abs(missing) < 1e-9:
                continue
            candidates = [row for row in unfinished if self._may_have_filled_away(row, symbol)]
            settled: set[str] = set()   # OCA groups whose member that filled is decided
            for row in candidates:
                if abs(missing) < 1e-9:
                    break
                working = self.gateway_open.get(row["order_ref"])   # still working: the gateway says what filled
                group = row["oca_group"] if working is None else None
                if group and group in settled:
                    continue
                sign = 1.0 if row["action"] == "BUY" else -1.0
                if sign * missing <= 0 or self._unfilled_quantity(row, working) <= 1e-9:
                    continue
                verdict = None
                siblings = [r for r in candidates if group and r["oca_group"] == group and r["action"] == row["action"]
                            and r["order_ref"] not in self.gateway_open]
                if len(siblings) > 1:   # e.g. a stop and a target, both gone from the gateway: which one?
                    settled.add(group)
                    row, verdict = self._oca_member_filled(symbol, siblings, row)
                    working = None
                quantity = min(self._unfilled_quantity(row, working), abs(missing))
                if quantity <= 1e-9:
                    continue
                self._journal_inferred_fill(row, symbol, sign, quantity, verdict)
                missing -= sign * quantity
                if len(siblings) > 1:
                    self._journal_oca_cancelled(row, siblings)

    def _booked_positions(self) -> dict[str, float]:
        """Shares per symbol the journal's fills add up to, of those in the account's snapshot (``booked``)."""
        held: dict[str, float] = collections.defaultdict(float)
        for f in self.store.journal.fills():
            if f["exec_id"] in self.booked:
                held[f["symbol"]] += f["shares"] if f["side"] == "BOT" else -f["shares"]
        return held

    def _may_have_filled_away(self, row, symbol: str) -> bool:
        """A journaled order of ``symbol`` the gateway does not report as done that could have filled unseen."""
        working = self.gateway_open.get(row["order_ref"])
        return not (row["symbol"] != symbol or row["status"] == "Intent"
                    or (row["order_ref"] in self.gateway_known and working is None)
                    or (row["account"] and self.store.account and row["account"] != self.store.account)
                    or not self._parent_filled(row))

    def _unfilled_quantity(self, row, working) -> float:
        journaled = sum(f["shares"] for f in self.store.journal.fills(row["order_ref"]))
        open_qty = float(row["quantity"]) - journaled
        if working is not None:   # part-filled on an earlier day: today's executions do not show it
            open_qty = min(open_qty, float(working.filled or 0.0) - journaled)
        return open_qty

    def _oca_member_filled(self, symbol: str, siblings: list, newest):
        """Which of an OCA group's members (all gone from the gateway) filled: the bars say (away_fills);
        without evidence the newest one is taken, with a warning that it is a guess."""
        journal = self.store.journal
        working_from = {}
        for row in siblings:
            since = away_fills.decided_at(row["order_ref"])
            parent_fills = journal.fills(row["parent_ref"]) if row["parent_ref"] else []
            executed = [dt.datetime.fromisoformat(f["time"]) for f in parent_fills
                        if not str(f["exec_id"]).startswith("inferred:")]
            if since is not None and executed:
                since = max([since] + [t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc) for t in executed])
            working_from[row["order_ref"]] = since
        starts = [t for t in working_from.values() if t is not None]
        bars = self._bars_of(symbol, min(starts) if starts else None)
        verdict = away_fills.which_filled(siblings, bars, working_from)
        names = ", ".join(f"{r['order_type']} {r['order_ref']}" for r in siblings)
        log = self.log.bind(order_ref=newest["order_ref"])
        if verdict is None:
            after = [b for b in bars if starts and b[1] > min(starts)]
            span = (f"no bar from {after[0][0].time:%Y-%m-%d %H:%M} to {after[-1][1]:%Y-%m-%d %H:%M} reaches any of "
                    f"them" if after else f"no bars of {symbol} cover the time they worked")
            log.warning(f"{symbol}: which of the OCA group {names} filled while no run was connected is unknown "
                        f"(the gateway reports none of them, {span}); guessing the newest, {newest['order_ref']}")
            return newest, away_fills.Verdict(newest["order_ref"], self._order_price(newest, symbol),
                                              f"a guess: the gateway reports none of its OCA group and {span}; "
                                              f"taken as the newest of them")
        chosen = next(r for r in siblings if r["order_ref"] == verdict.order_ref)
        if verdict.ambiguous:
            log.warning(f"{symbol}: OCA group {names}: {verdict.how}")
        return chosen, verdict

    def _bars_of(self, symbol: str, since: dt.datetime | None) -> list:
        """The bars a feed of ``symbol`` backfilled, each with its period's end: of the feeds whose bars reach
        back to ``since``, the finest bar size; if none does, the feed reaching back furthest."""
        found = []
        for data in self._datas():
            known = getattr(data, "bars_known", None)
            if self._symbol(data) != symbol or known is None:
                continue
            bars = sorted(known(), key=lambda b: b[0].time)
            if bars:
                size = getattr(data, "size", None)
                minutes = getattr(size, "minutes", 0) or 24 * 60
                covers = since is None or bars[0][0].time <= since
                found.append((not covers, minutes if covers else bars[0][0].time.timestamp(), bars))
        return min(found, key=lambda f: f[:2])[2] if found else []

    def _order_price(self, row, symbol: str) -> float:
        working = self.gateway_open.get(row["order_ref"])
        return float((working.avgFillPrice if working is not None else None) or row["limit_price"]
                     or row["aux_price"] or self.positions[symbol].price)

    def _parent_filled(self, row) -> bool:
        """An attached exit cannot have filled before its parent (IB holds it until the parent fills)."""
        if not row["parent_ref"]:
            return True
        parent = self.store.journal.order(row["parent_ref"])
        return parent is not None and (parent["status"] == "Filled" or bool(self.store.journal.fills(row["parent_ref"])))

    def _journal_inferred_fill(self, row, symbol: str, sign: float, quantity: float,
                               verdict: "away_fills.Verdict | None" = None) -> None:
        ref = row["order_ref"]
        price = verdict.price if verdict is not None else self._order_price(row, symbol)
        how = verdict.how if verdict is not None else "the only unfinished order that explains it"
        # When the bars say it filled (UTC, as the gateway's executions: the journal orders fills by their time);
        # without such evidence, the time it was found.
        when = verdict.time if verdict is not None and verdict.time is not None else dt.datetime.now(dt.timezone.utc)
        self._record_inferred_fill(row, "BOT" if sign > 0 else "SLD", quantity, float(price),
                                   when.astimezone(dt.timezone.utc),
                                   f"inferred: the account's position shows it filled while no run was connected; "
                                   f"{how}")
        self.log.bind(order_ref=ref).warning(
            f"{symbol}: the account holds {self.positions[symbol].size:g}, which the journal's fills do not explain; "
            f"{row['action']} {quantity:g} {row['order_type']} filled while no run was connected (the gateway "
            f"reports only today's executions): journaled as filled at {float(price):g} ({how})")

    def _record_inferred_fill(self, row, side: str, quantity: float, price: float, when: dt.datetime,
                              message: str) -> None:
        """Journal a fill of ``row`` no run saw (``inferred:<orderRef>``, no commission) and its status."""
        ref, journal = row["order_ref"], self.store.journal
        exec_id = f"inferred:{ref}"
        journal.record_fill(exec_id, ref, when, row["symbol"], side, quantity, price)
        journal.record_commission(exec_id, 0.0)
        filled = quantity + sum(f["shares"] for f in journal.fills(ref) if f["exec_id"] != exec_id)
        journal.record_status(ref, "Filled" if filled >= float(row["quantity"]) - 1e-9 else row["status"], filled,
                              max(float(row["quantity"]) - filled, 0.0), avg_price=price, message=message)
        self.booked.add(exec_id)   # already in the account's position and cash

    def _journal_oca_cancelled(self, filled_row, siblings: list) -> None:
        """The other members of the group of an order inferred as filled: cancelled by the group, as IB does."""
        journal = self.store.journal
        for row in siblings:
            if row["order_ref"] != filled_row["order_ref"] and not journal.fills(row["order_ref"]):
                journal.record_status(row["order_ref"], "Cancelled", 0.0, float(row["quantity"]),
                                      message=f"cancelled by its OCA group: {filled_row['order_ref']} was inferred "
                                              f"as filled while no run was connected")
