"""NYSE sessions for the replay: open and close of each trading day, early closes included.

Contract: ``SessionCalendar(first, last)`` covers every XNYS session between the
two dates (from exchange_calendars, never hand-rolled). ``bounds(day)`` gives
the (open, close) of a day as tz-aware America/New_York timestamps; a day the
calendar does not list as a session (data from a source that disagrees) falls
back to 09:30-16:00 so that such a bar can still be replayed.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pandas as pd

NEW_YORK = "America/New_York"
_REGULAR_OPEN = dt.time(9, 30)
_REGULAR_CLOSE = dt.time(16, 0)


@lru_cache(maxsize=8)
def _xnys(first_year: int, last_year: int):
    import exchange_calendars as xcals

    # The calendar's default range starts only 20 years back; ask for the data's range.
    return xcals.get_calendar("XNYS", start=f"{first_year}-01-01", end=f"{last_year}-12-31")


class SessionCalendar:
    def __init__(self, first: dt.date, last: dt.date):
        calendar = _xnys(min(first.year, last.year), max(first.year, last.year) + 1)
        schedule = calendar.schedule
        self._bounds: dict[dt.date, tuple[pd.Timestamp, pd.Timestamp]] = {
            label.date(): (opened.tz_convert(NEW_YORK), closed.tz_convert(NEW_YORK))
            for label, opened, closed in zip(schedule.index, schedule["open"], schedule["close"])
        }

    def is_session(self, day: dt.date) -> bool:
        return day in self._bounds

    def bounds(self, day: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
        found = self._bounds.get(day)
        if found is not None:
            return found
        opened = pd.Timestamp(dt.datetime.combine(day, _REGULAR_OPEN)).tz_localize(NEW_YORK)
        closed = pd.Timestamp(dt.datetime.combine(day, _REGULAR_CLOSE)).tz_localize(NEW_YORK)
        return opened, closed

    def sessions_between(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """Sessions with first <= day <= last, in order."""
        return sorted(day for day in self._bounds if first <= day <= last)
