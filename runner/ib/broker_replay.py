"""The position a playbook sees while :class:`runner.ib.broker.IBBroker` replays history at a restart.

The broker's positions are the account's, today's. A playbook replaying
history at a restart must see, on each past bar, the position it held then:
the account's minus the journal's fills of that symbol executed after the
bar (a symbol traded by two feeds: its feed's position from
:func:`runner.ib.feed_positions.split_positions` minus the fills of that feed's
own orders after the bar, the orderRef naming the playbook). Otherwise a 1-minute playbook restarted mid-session finds
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
        if journal is None or not len(data):
            return pos.clone()
        bar_time = data.datetime.datetime(0) + _bar_length(data)   # the bar's end, naive New York time
        symbol = self._symbol(data)
        shared = data._name in self.feed_positions   # a symbol two feeds trade: only this feed's orders count
        later = 0.0
        for row in journal.fills():
            if row["symbol"] != symbol or str(row["exec_id"]).startswith("inferred:"):
                continue
            if shared and self._feed_of_ref(str(row["order_ref"])) != data._name:
                continue
            executed = dt.datetime.fromisoformat(row["time"])
            if executed.tzinfo is not None:
                executed = executed.astimezone(NEW_YORK).replace(tzinfo=None)
            if executed > bar_time:
                later += float(row["shares"]) if row["side"] == "BOT" else -float(row["shares"])
        size = pos.size - later
        return bt.Position(size, pos.price) if abs(size) > 1e-9 else bt.Position()

    def _feed_of_ref(self, order_ref: str) -> str | None:
        """The instrument feed of the playbook an orderRef names (``<prefix>:<playbook>:...``)."""
        parts = order_ref.split(":")
        return self.feed_of_strategy.get(parts[1]) if len(parts) > 1 else None


def _bar_length(data) -> dt.timedelta:
    """IB stamps intraday bars at their start; a daily bar's stamp (the session's end) is its end already."""
    size = getattr(data, "size", None)   # runner.ib.bars.BarSize of an IB feed
    minutes = 0 if size is None or size.daily else size.minutes
    return dt.timedelta(minutes=minutes)
