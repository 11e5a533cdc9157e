"""The position a playbook sees while :class:`runner.ib.broker.IBBroker` replays history at a restart.

The broker's positions are the account's, today's. A playbook replaying
history at a restart must see, on each past bar, the position it held then:
the account's minus the journal's fills of that symbol executed after the
bar. A symbol two feeds trade: the feed's own orders' journaled fills up to
the bar (the orderRef names the playbook), never a share of the account's net
(:func:`runner.ib.feed_positions.feed_position_at`). Otherwise a 1-minute
playbook restarted mid-session finds today's position at the start of the
replayed session and takes it for one held overnight (vwap_close_fade then
sends its ``overnight_flatten``). Fills the journal only inferred
(``inferred:``, filled while no run was connected) have no execution time
and count as executed before every bar.
"""
from __future__ import annotations

import datetime as dt

import backtrader as bt

from runner.ib.feed_positions import executed_after, feed_position_at, owner_of


class ReplayedPositions:
    def _position_as_replayed(self, data, pos: bt.Position) -> bt.Position:
        journal = getattr(self.store, "journal", None)
        if journal is None or not len(data):
            return pos.clone()
        bar_time = data.datetime.datetime(0) + _bar_length(data)   # the bar's end, naive New York time
        symbol = self._symbol(data)
        account = self.positions[symbol]
        fills = [row for row in journal.fills() if row["symbol"] == symbol]
        if data._name in self.feed_positions:   # a symbol two feeds trade: whose fills they were decides
            shared = [d for d in self._datas() if self._symbol(d) == symbol]
            size = feed_position_at(fills, symbol, [d._name for d in shared], owner_of(shared)._name, data._name,
                                    account.size, self.feed_of_strategy, until=bar_time)
        else:
            size = pos.size - sum((float(r["shares"]) if r["side"] == "BOT" else -float(r["shares"]))
                                  for r in fills if executed_after(r, bar_time))
        price = pos.price or account.price
        return bt.Position(size, price) if abs(size) > 1e-9 else bt.Position()


def _bar_length(data) -> dt.timedelta:
    """IB stamps intraday bars at their start; a daily bar's stamp (the session's end) is its end already."""
    size = getattr(data, "size", None)   # runner.ib.bars.BarSize of an IB feed
    minutes = 0 if size is None or size.daily else size.minutes
    return dt.timedelta(minutes=minutes)
