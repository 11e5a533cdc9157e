"""The position a playbook sees while :class:`runner.ib.broker.IBBroker` replays history at a restart.

The broker's positions are the account's, today's. A playbook replaying
history at a restart must see, on each past bar, the position it held then:
the account's minus the journal's fills of that symbol executed after the
bar (a symbol traded by two feeds keeps its feed's position from
:func:`runner.ib.feed_positions.split_positions`: not replayed yet). Otherwise a 1-minute playbook restarted mid-session finds
today's position at the start of the replayed session and takes it for one
held overnight (vwap_close_fade then sends its ``overnight_flatten``).
Fills the journal only inferred (``inferred:``, filled while no run was
connected) have no execution time and count as executed before every bar.
"""
from __future__ import annotations

import datetime as dt

import backtrader as bt

from runner.ib.sessions import NEW_YORK


class ReplayedPositions:
    def _position_as_replayed(self, data, pos: bt.Position) -> bt.Position:
        journal = getattr(self.store, "journal", None)
        if journal is None or not len(data) or data._name in self.feed_positions:
            # A symbol two feeds trade (split_positions): left as it is for now; replaying its feed's
            # position broke the combined daily + 1-minute restart (tests/paper/test_paper_live_view.py).
            return pos.clone()
        bar_time = data.datetime.datetime(0) + _bar_length(data)   # the bar's end, naive New York time
        symbol = self._symbol(data)
        later = 0.0
        for row in journal.fills():
            if row["symbol"] != symbol or str(row["exec_id"]).startswith("inferred:"):
                continue
            executed = dt.datetime.fromisoformat(row["time"])
            if executed.tzinfo is not None:
                executed = executed.astimezone(NEW_YORK).replace(tzinfo=None)
            if executed > bar_time:
                later += float(row["shares"]) if row["side"] == "BOT" else -float(row["shares"])
        size = pos.size - later
        return bt.Position(size, pos.price) if abs(size) > 1e-9 else bt.Position()


def _bar_length(data) -> dt.timedelta:
    """IB stamps intraday bars at their start; a daily bar's stamp (the session's end) is its end already."""
    size = getattr(data, "size", None)   # runner.ib.bars.BarSize of an IB feed
    minutes = 0 if size is None or size.daily else size.minutes
    return dt.timedelta(minutes=minutes)
