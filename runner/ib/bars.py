"""Aggregation of IB's 5-second bars into the strategy's bars (pure, no I/O).

IB stamps every bar at its *start*. Output bars follow the run's bar schema:
intraday bars are stamped at their start, daily bars at the session date
00:00, all in America/New_York.

Contract of :class:`BarAggregator`:

- a 5-second bar at or before the last one accepted is dropped (repeats after
  a reconnect, backfill/live overlap), so output never repeats or goes back;
- an output bar is emitted once, when its period is over: its last 5-second
  slot arrived, a bar of a later period arrived (sparse feeds), or the clock
  passed the period's end (:meth:`BarAggregator.advance_to`);
- a daily period ends at the session's close from the XNYS calendar (13:00 on
  early-close days); an intraday period never extends past the close;
- 5-second bars outside regular hours are ignored.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from runner.ib.sessions import NEW_YORK, Sessions

FIVE_SECONDS = dt.timedelta(seconds=5)


class Bar(NamedTuple):
    """One OHLCV bar; ``time`` is tz-aware America/New_York (see module doc for the stamp)."""

    time: dt.datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class BarSize:
    """The strategy's bar size: ``minutes`` > 0 for intraday bars, or daily."""

    minutes: int = 0

    @property
    def daily(self) -> bool:
        return self.minutes == 0

    @classmethod
    def parse(cls, text: str) -> "BarSize":
        """Parse ``1d``/``daily``/``1 day`` or ``1m``/``5min``/``1 min``."""
        t = text.strip().lower().replace(" ", "")
        if t in ("1d", "d", "daily", "day", "1day"):
            return cls(0)
        for suffix in ("mins", "min", "m"):
            if t.endswith(suffix) and t[: -len(suffix)].isdigit():
                minutes = int(t[: -len(suffix)])
                if minutes > 0:
                    return cls(minutes)
        raise ValueError(f"unsupported bar size {text!r} (expected e.g. 1d, 1min, 5min)")

    def __str__(self) -> str:
        return "1d" if self.daily else f"{self.minutes}min"


@dataclass
class _Pending:
    period_start: dt.datetime
    period_end: dt.datetime
    stamp: dt.datetime
    open: float
    high: float
    low: float
    close: float
    volume: float

    def bar(self) -> Bar:
        return Bar(self.stamp, self.open, self.high, self.low, self.close, self.volume)


class BarAggregator:
    """Build bars of one :class:`BarSize` from 5-second bars, one symbol."""

    def __init__(self, size: BarSize, sessions: Sessions | None = None, after: dt.datetime | None = None) -> None:
        """``after``: end of the last bar already delivered (e.g. by backfill); earlier input is dropped."""
        self.size = size
        self.sessions = sessions or Sessions()
        self._pending: _Pending | None = None
        self._last_start: dt.datetime | None = None
        self._after = after

    @property
    def delivered_until(self) -> dt.datetime | None:
        """End of the last period emitted (or the ``after`` given)."""
        return self._after

    def add(self, start: dt.datetime, o: float, h: float, lo: float, c: float, v: float) -> list[Bar]:
        """Feed one 5-second bar stamped at ``start``; return the bars it completes, oldest first."""
        start = start.astimezone(NEW_YORK)
        if self._last_start is not None and start <= self._last_start:
            return []
        if self._after is not None and start < self._after:
            return []
        period = self._period(start)
        if period is None:
            return []
        self._last_start = start
        done: list[Bar] = []
        pending = self._pending
        if pending is not None and start >= pending.period_end:
            done.append(self._emit())
            pending = None
        if pending is None:
            p_start, p_end, stamp = period
            self._pending = _Pending(p_start, p_end, stamp, o, h, lo, c, v)
        else:
            pending.high = max(pending.high, h)
            pending.low = min(pending.low, lo)
            pending.close = c
            pending.volume += v
        if start + FIVE_SECONDS >= self._pending.period_end:
            done.append(self._emit())
        return done

    def advance_to(self, now: dt.datetime) -> list[Bar]:
        """Tell the aggregator the time is ``now``; return the bar whose period ended by then, if any."""
        if self._pending is not None and now.astimezone(NEW_YORK) >= self._pending.period_end:
            return [self._emit()]
        return []

    def skip_until(self, end: dt.datetime) -> None:
        """Treat every period ending at or before ``end`` as delivered (e.g. rebuilt from history)."""
        if self._pending is not None and self._pending.period_end <= end:
            self._pending = None
        if self._after is None or end > self._after:
            self._after = end

    def period_of(self, ts: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
        """(stamp, end) of the output bar whose period contains ``ts``, or None outside regular hours."""
        period = self._period(ts.astimezone(NEW_YORK))
        return (period[2], period[1]) if period else None

    def last_start(self) -> dt.datetime | None:
        """Start of the last 5-second bar accepted, or None."""
        return self._last_start

    def pending_end(self) -> dt.datetime | None:
        """When the bar being built is due, or None."""
        return self._pending.period_end if self._pending is not None else None

    def _emit(self) -> Bar:
        pending = self._pending
        assert pending is not None
        self._pending = None
        self._after = pending.period_end
        return pending.bar()

    def _period(self, start: dt.datetime) -> tuple[dt.datetime, dt.datetime, dt.datetime] | None:
        session = self.sessions.session_of(start)
        if session is None:
            return None
        close = self.sessions.close_of(session)
        if self.size.daily:
            stamp = dt.datetime.combine(session, dt.time(0), NEW_YORK)
            return self.sessions.open_of(session), close, stamp
        minutes = self.size.minutes
        midnight = dt.datetime.combine(session, dt.time(0), NEW_YORK)
        offset = int((start - midnight).total_seconds() // 60)
        p_start = midnight + dt.timedelta(minutes=offset - offset % minutes)
        p_end = min(p_start + dt.timedelta(minutes=minutes), close)
        return p_start, p_end, p_start
