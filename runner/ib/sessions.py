"""NYSE regular sessions (XNYS from exchange_calendars), early closes included.

A small read-only view for the feed: which session a timestamp belongs to, and
when that session opens and closes. Times are tz-aware America/New_York.
"""
from __future__ import annotations

import bisect
import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import exchange_calendars as xcals

NEW_YORK = ZoneInfo("America/New_York")


@lru_cache(maxsize=1)
def _schedule() -> tuple[list[dt.date], list[dt.datetime], list[dt.datetime]]:
    calendar = xcals.get_calendar("XNYS", start="1990-01-02")
    sched = calendar.schedule
    dates = [ts.date() for ts in sched.index]
    opens = [ts.tz_convert(NEW_YORK).to_pydatetime() for ts in sched["open"]]
    closes = [ts.tz_convert(NEW_YORK).to_pydatetime() for ts in sched["close"]]
    return dates, opens, closes


class Sessions:
    """Lookup of XNYS regular-hours sessions."""

    def __init__(self) -> None:
        self._dates, self._opens, self._closes = _schedule()

    def session_of(self, ts: dt.datetime) -> dt.date | None:
        """The session whose regular hours contain ``ts`` (open <= ts < close), else None."""
        i = bisect.bisect_right(self._opens, ts) - 1
        if i >= 0 and ts < self._closes[i]:
            return self._dates[i]
        return None

    def close_of(self, session: dt.date) -> dt.datetime:
        """Close of ``session`` (13:00 on early-close days)."""
        return self._closes[self._index(session)]

    def open_of(self, session: dt.date) -> dt.datetime:
        return self._opens[self._index(session)]

    def is_session(self, day: dt.date) -> bool:
        i = bisect.bisect_left(self._dates, day)
        return i < len(self._dates) and self._dates[i] == day

    def previous_close(self, ts: dt.datetime) -> dt.datetime | None:
        """Latest session close at or before ``ts``."""
        i = bisect.bisect_right(self._closes, ts) - 1
        return self._closes[i] if i >= 0 else None

    def sessions_between(self, first: dt.date, last: dt.date) -> list[dt.date]:
        lo = bisect.bisect_left(self._dates, first)
        hi = bisect.bisect_right(self._dates, last)
        return self._dates[lo:hi]

    def _index(self, session: dt.date) -> int:
        i = bisect.bisect_left(self._dates, session)
        if i == len(self._dates) or self._dates[i] != session:
            raise KeyError(f"{session} is not an XNYS session")
        return i
