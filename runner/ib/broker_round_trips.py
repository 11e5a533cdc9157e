"""Trades opened and closed while no run was connected, inferred into the journal by :class:`runner.ib.broker.IBBroker`.

On a restart days later the gateway reports only today's executions and completed orders. If an entry and its
exit both filled while no run was connected the account is flat, and so are the journal's fills: nothing is
left for runner/ib/broker_away.py (which explains a position the fills do not) to see. The bars tell instead.

Contract (at start, right after broker_away's inference, once the feeds have backfilled):

- a candidate is a journaled entry (no parent) with no fills that the gateway acknowledged before the run died
  (its journal status PreSubmitted or Submitted, or a permId the gateway gave it), that is neither working nor
  in today's completed orders, in a symbol the account and the journal's fills agree on, with attached exits
  the gateway does not report either; an entry that never reached the gateway (Intent, or Sent and lost with
  the socket) is never a candidate: it is re-sent or marked Lost elsewhere;
- it filled if its type always fills in regular hours (MKT at the open of the first bar after it was decided,
  MOC at that session's close) or, a limit, if a bar after it was sent reached its price (a DAY limit only in
  its first session: it expired unfilled otherwise, and is not credited) (runner/ib/away_fills.py
  ``entry_filled``); then which of its exits filled is told by the same bars from the entry's fill on
  (``which_filled``: stop or target, the stop when a bar reaches both); the other exits are cancelled by
  their OCA group;
- both fills are journaled (``inferred:<orderRef>``, at the bar's price and time) with messages saying they
  were inferred from the bars while no run was connected; nothing the gateway reported is touched;
- bars that cannot decide (none cover the time since the entry was sent, or the entry filled and no exit is
  reached although the account is flat): nothing new is journaled, a WARNING names the orders that may have
  filled while away, for the user to check in TWS.
"""
from __future__ import annotations

import datetime as dt

from runner.ib import away_fills

ACKNOWLEDGED = frozenset({"PreSubmitted", "Submitted"})
AWAY = "inferred from the bars while no run was connected (the gateway reports only today's executions)"


class RoundTripsWhileAway:
    def _infer_round_trips_while_away(self) -> None:
        journal = self.store.journal
        if journal is None:
            return
        held = self._booked_positions()   # as broker_away: only the fills in the account's snapshot count
        orders = journal.unfinished_orders()
        for entry in orders:
            symbol = entry["symbol"]
            if not self._round_trip_candidate(entry) or abs(self.positions[symbol].size - held[symbol]) > 1e-9:
                continue
            exits = [r for r in orders if r["parent_ref"] == entry["order_ref"] and r["action"] != entry["action"]
                     and r["order_ref"] not in self.gateway_known and r["order_ref"] not in self.gateway_open
                     and r["status"] != "Intent"]
            if exits:
                self._round_trip(entry, exits)

    def _round_trip_candidate(self, row) -> bool:
        """An entry the gateway acknowledged, with no fills, that the gateway no longer reports at all."""
        return not (row["parent_ref"] or row["order_ref"] in self.gateway_known
                    or not (row["status"] in ACKNOWLEDGED or row["perm_id"])
                    or (row["account"] and self.store.account and row["account"] != self.store.account)
                    or self.store.journal.fills(row["order_ref"]))

    def _round_trip(self, entry, exits: list) -> None:
        symbol, ref = entry["symbol"], entry["order_ref"]
        names = ", ".join(f"{r['order_type']} {r['action']} {r['order_ref']}" for r in [entry, *exits])
        since = away_fills.decided_at(ref)
        bars = self._bars_of(symbol, since)
        log = self.log.bind(order_ref=ref)
        if not away_fills.covers(bars, since):
            log.warning(f"{symbol}: {names} may have filled while no run was connected (the gateway reports none "
                        f"of them; no bars of {symbol} cover the time since they were sent): check them in TWS; "
                        f"nothing journaled")
            return
        filled = away_fills.entry_filled(entry, bars, since)
        if filled is None:
            return   # the bars say it did not fill (a limit never reached, a DAY limit expired)
        opened, exits_from = filled
        closed = away_fills.which_filled(exits, bars, {r["order_ref"]: exits_from for r in exits})
        if closed is None:
            log.warning(f"{symbol}: {names}: the bars say the entry filled ({opened.how}) but reach none of its exits, "
                        f"while the account is flat: check them in TWS; nothing journaled")
            return
        exit_row = next(r for r in exits if r["order_ref"] == closed.order_ref)
        quantity = float(entry["quantity"])
        self._journal_round_trip_fill(entry, quantity, opened, "the entry")
        self._journal_round_trip_fill(exit_row, min(quantity, float(exit_row["quantity"])), closed,
                                      f"the exit of {ref}")
        self._journal_oca_cancelled(exit_row, exits)
        log.warning(f"{symbol}: {entry['action']} {quantity:g} {entry['order_type']} {ref} and its exit "
                    f"{exit_row['order_type']} {exit_row['order_ref']} both filled while no run was connected (the "
                    f"account is flat, the gateway reports neither): journaled from the bars, the entry at "
                    f"{opened.price:g} ({opened.how}), the exit at {closed.price:g} ({closed.how})")

    def _journal_round_trip_fill(self, row, quantity: float, verdict: "away_fills.Verdict", what: str) -> None:
        # UTC, as the gateway's executions: the journal sorts fills by their time
        self._record_inferred_fill(row, "BOT" if row["action"] == "BUY" else "SLD", quantity, float(verdict.price),
                                   verdict.time.astimezone(dt.timezone.utc),
                                   f"inferred: {what} filled, {AWAY}; {verdict.how}")
