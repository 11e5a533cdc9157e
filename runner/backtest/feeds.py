"""Backtrader data feeds backed by numpy arrays (faster than PandasData, same bars).

Times handed to backtrader are naive America/New_York wall-clock times, so
strategies see exchange time without backtrader's pytz-based ``tz=`` (pandas 3
no longer installs pytz). A daily bar carries its session date at backtrader's
end-of-session time, the convention market-on-close orders rely on.
"""
from __future__ import annotations

import array
import datetime as dt

import backtrader as bt
import numpy as np
import pandas as pd

from runner.data.bars import is_daily

END_OF_SESSION = dt.time(23, 59, 59, 999989)


def _current_bar(line_name: str) -> property:
    """A read-only attribute: the current bar's value of the line ``line_name``."""
    def value(self) -> float:
        line = getattr(self.lines, line_name)
        return line.array[line.idx]
    return property(value)


class ArrayFeed(bt.feed.DataBase):
    """Replays a validated bar table; adds an ``adj_close`` line (close when absent)."""

    lines = ("adj_close",)

    def __init__(self, bars: pd.DataFrame, **kwargs):
        super().__init__(**kwargs)
        self.daily = is_daily(bars)
        local = bars.index.tz_convert("America/New_York").tz_localize(None)
        if self.daily:
            local = local + pd.Timedelta(hours=23, minutes=59, seconds=59, microseconds=999989)
        self._times = _bt_datenums(local)
        self._columns = {name: bars[name].to_numpy(dtype="float64") for name in ("open", "high", "low", "close", "volume")}
        adj = bars["adj_close"] if "adj_close" in bars else bars["close"]
        self._columns["adj_close"] = adj.to_numpy(dtype="float64")
        self._position = 0

    def start(self):
        super().start()
        self._position = 0

    # backtrader copies every line of the bar into a ``tick_<line>`` attribute on each advance (for
    # resampling and replay, which these feeds never do); its broker matches orders against
    # ``tick_open/high/low/close``. Here those four read the bar's lines when asked (whole bars: the same
    # prices) and no copies are made (a dozen attributes per bar and feed).
    def _tick_nullify(self):
        pass

    def _tick_fill(self, force=False):
        pass

    tick_open = _current_bar("open")
    tick_high = _current_bar("high")
    tick_low = _current_bar("low")
    tick_close = _current_bar("close")

    def advance(self, size=1, datamaster=None, ticks=True):
        if datamaster is not None:
            return super().advance(size, datamaster=datamaster, ticks=ticks)
        for line in self.lines.lines:   # LineBuffer.advance on each line, without a call per line
            line.idx += size
            line.lencount += size

    def _load(self):
        i = self._position
        if i >= len(self._times):
            return False
        self.lines.datetime[0] = self._times[i]
        for name, values in self._columns.items():
            getattr(self.lines, name)[0] = values[i]
        self.lines.openinterest[0] = 0.0
        self._position = i + 1
        return True


class BulkPreloadFeed(ArrayFeed):
    """An ArrayFeed whose columns are preloaded in one step per line instead of bar by bar.

    backtrader's preload calls ``load()`` once per bar; for a feed without
    filters, time zone or date limits it ends with every line's buffer holding
    its column and the pointer at home. This does that directly (same lines,
    same values). A feed with any of those falls back to backtrader's preload.
    """

    def preload(self):
        if self._filters or self._ffilters or self._tzinput or self._position or \
                self.fromdate != float("-inf") or self.todate != float("inf"):
            return super().preload()
        count = len(self._times)
        values = {"datetime": self._times, "openinterest": np.zeros(count), **self._columns}
        for alias in self.lines.getlinealiases():
            buffer = getattr(self.lines, alias)
            buffer.array.extend(array.array("d", np.ascontiguousarray(values[alias], dtype="float64").tobytes()))
            buffer.idx += count
            buffer.lencount += count
        self._position = count
        self._last()
        self.home()


def _bt_datenums(local: pd.DatetimeIndex) -> np.ndarray:
    """backtrader's date numbers (days since 0001-01-01, plus one) for naive times."""
    epoch = bt.utils.date2num(dt.datetime(1970, 1, 1))
    days = (local - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    return epoch + np.asarray(days, dtype="float64")


def make_feed(bars: pd.DataFrame, name: str) -> ArrayFeed:
    timeframe = bt.TimeFrame.Days if is_daily(bars) else bt.TimeFrame.Minutes
    return ArrayFeed(bars, name=name, timeframe=timeframe, compression=1)
