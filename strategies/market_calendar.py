"""NYSE calendar facts the playbooks need, from exchange_calendars (XNYS).

Sessions, holidays, ad-hoc closures and early closes come from the library
(its answer shipped as a table: :mod:`strategies.calendar_table`);
the only table kept here is the date-versioned market-on-close cutoff, which
no calendar library carries. All times are America/New_York.

Dates in and out are ``datetime.date``; times are tz-aware ``pandas.Timestamp``.
"""
from __future__ import annotations

import bisect
import datetime as dt
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from strategies import calendar_table

NEW_YORK = "America/New_York"
CALENDAR_START = "1990-01-01"
CACHE_ENV = "FLOWBOT_CALENDAR_CACHE"   # a folder to keep a session table built from the library in (unset: none)


def _calendar_end() -> str:
    # The library's default start is 20 years before today: far too late for
    # the 1999 sample, so ask for the whole span explicitly.
    return (pd.Timestamp.today().normalize() + pd.DateOffset(years=2)).strftime("%Y-%m-%d")


def _cache_file() -> Path | None:
    """Where a session table built from the library is kept (only when ``CACHE_ENV`` names a folder), or None."""
    folder = os.environ.get(CACHE_ENV)
    library = calendar_table.library_version()
    if not folder or library is None:
        return None
    return Path(folder) / f"xnys-{library}-{CALENDAR_START}-{_calendar_end()}.npz"


@lru_cache(maxsize=1)
def _session_table() -> tuple[np.ndarray, np.ndarray]:
    """(session days as datetime64[D], their closes as UTC nanoseconds) up to ``_calendar_end()``.

    From the table shipped with flowbot (:mod:`strategies.calendar_table`) when the installed exchange_calendars
    made it and it reaches far enough; else from a table kept in ``CACHE_ENV`` (if set) or the library itself.
    Nothing is written outside ``CACHE_ENV``.
    """
    end = _calendar_end()
    shipped = calendar_table.read(calendar_table.SHIPPED)
    if (shipped is not None and shipped["library"] == calendar_table.library_version()
            and shipped["start"] == CALENDAR_START and shipped["end"] >= end):
        keep = shipped["days"] <= np.datetime64(end)
        return shipped["days"][keep], shipped["closes"][keep]
    path = _cache_file()
    kept = calendar_table.read(path) if path is not None else None
    if kept is not None:
        return kept["days"], kept["closes"]
    table = calendar_table.build(CALENDAR_START, end)
    if path is not None:
        try:
            calendar_table.write(path, CALENDAR_START, end, table)
        except OSError:
            pass   # a read-only folder: every run asks the library
    return table


@lru_cache(maxsize=1)
def _session_dates() -> tuple[dt.date, ...]:
    return tuple(_session_table()[0].astype(object))


@lru_cache(maxsize=1)
def _session_index() -> dict[dt.date, int]:
    return {d: i for i, d in enumerate(_session_dates())}


@lru_cache(maxsize=None)
def _close_ny(index: int) -> pd.Timestamp:
    # One Timestamp per session asked for, not one per session since 1990 at start-up.
    return pd.Timestamp(int(_session_table()[1][index]), tz="UTC").tz_convert(NEW_YORK)


def is_session(day: dt.date) -> bool:
    """True if NYSE traded on ``day`` (holidays and ad-hoc closures are not sessions)."""
    return day in _session_index()


def are_sessions(days) -> np.ndarray:
    """``is_session`` for many days (datetime64[D]) at once: one bool per day, in their order."""
    table_days = _session_table()[0]
    days = np.asarray(days, dtype="datetime64[D]")
    at = np.searchsorted(table_days, days)
    inside = at < len(table_days)
    found = np.zeros(len(days), dtype=bool)
    found[inside] = table_days[at[inside]] == days[inside]
    return found


def sessions_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """All sessions from ``start`` to ``end``, both included."""
    return list(_sessions_of_range(start, end))


def _sessions_of_range(start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
    dates = _session_dates()
    lo = bisect.bisect_left(dates, start)
    hi = bisect.bisect_right(dates, end)
    return dates[lo:hi]


@lru_cache(maxsize=None)
def sessions_of_month(year: int, month: int) -> tuple[dt.date, ...]:
    """The sessions of one calendar month, in order."""
    first = dt.date(year, month, 1)
    last = (pd.Timestamp(first) + pd.offsets.MonthEnd(0)).date()
    return _sessions_of_range(first, last)


def nth_session_of_month(year: int, month: int, n: int) -> dt.date:
    """The n-th session of a month: n=1 is the first, n=-1 the last, n=-2 the second-to-last.

    Counts sessions, not calendar days. Raises ValueError if the month has fewer sessions.
    """
    if n == 0:
        raise ValueError("n counts from 1 (first) or -1 (last); 0 is not a session")
    month_sessions = sessions_of_month(year, month)
    index = n - 1 if n > 0 else n
    try:
        return month_sessions[index]
    except IndexError:
        raise ValueError(f"{year}-{month:02d} has {len(month_sessions)} sessions, no session {n}") from None


def session_offset(day: dt.date, offset: int) -> dt.date:
    """The session ``offset`` sessions after (or before, if negative) the session ``day``."""
    index = _session_index().get(day)
    if index is None:
        raise ValueError(f"{day} is not an NYSE session")
    return _session_dates()[index + offset]


def sessions_from_end_of_month(day: dt.date) -> int:
    """1 on the last session of the month, 2 on the second-to-last, ...; 0 if not a session."""
    if not is_session(day):
        return 0
    month_sessions = sessions_of_month(day.year, day.month)
    return len(month_sessions) - month_sessions.index(day)


def session_number_in_month(day: dt.date) -> int:
    """1 on the first session of the month, 2 on the second, ...; 0 if not a session."""
    if not is_session(day):
        return 0
    return sessions_of_month(day.year, day.month).index(day) + 1


def third_friday(year: int, month: int) -> dt.date:
    """The third Friday of a month (always the 15th to the 21st)."""
    first = dt.date(year, month, 1)
    first_friday = first + dt.timedelta(days=(4 - first.weekday()) % 7)
    return first_friday + dt.timedelta(days=14)


@lru_cache(maxsize=None)
def monthly_opex_session(year: int, month: int) -> dt.date:
    """The monthly options expiration session: the third Friday, or the session before it if a holiday."""
    friday = third_friday(year, month)
    if is_session(friday):
        return friday
    return _sessions_of_range(friday - dt.timedelta(days=10), friday)[-1]


def december_opex_session(year: int) -> dt.date:
    """December monthly options expiration ("Dec OPEX") of ``year``."""
    return monthly_opex_session(year, 12)


def session_close(day: dt.date) -> pd.Timestamp:
    """The official close of a session (16:00, or 13:00 on early-close days), New York time."""
    index = _session_index().get(day)
    if index is None:
        raise ValueError(f"{day} is not an NYSE session")
    return _close_ny(index)


DAY_NS = 86_400_000_000_000


def sessions_among(days) -> tuple[np.ndarray, np.ndarray]:
    """The sessions among ``days`` (datetime64[D]; any order, repeats allowed), sorted and unique, and
    their official closes as UTC nanoseconds: ``session_close`` for many days at once."""
    table_days, closes = _session_table()
    wanted = np.unique(np.asarray(days, dtype="datetime64[D]"))
    at = np.searchsorted(table_days, wanted)
    inside = at < len(table_days)
    found = np.zeros(len(wanted), dtype=bool)
    found[inside] = table_days[at[inside]] == wanted[inside]
    return wanted[found], closes[at[found]]


def session_opens_ns(days: np.ndarray) -> np.ndarray:
    """The opens (09:30 New York) of the sessions ``days`` (datetime64[D]) as UTC nanoseconds:
    ``session_open`` for many days at once."""
    local = pd.DatetimeIndex(np.asarray(days, dtype="datetime64[D]").astype("datetime64[ns]"))
    return (local + pd.Timedelta(hours=9, minutes=30)).tz_localize(NEW_YORK).as_unit("ns").asi8


def session_open(day: dt.date) -> pd.Timestamp:
    """The open of a session (09:30 New York)."""
    if not is_session(day):
        raise ValueError(f"{day} is not an NYSE session")
    return pd.Timestamp(dt.datetime.combine(day, dt.time(9, 30)), tz=NEW_YORK)


def is_early_close(day: dt.date) -> bool:
    """True if the session closes before 16:00 (e.g. 13:00 on the day after Thanksgiving)."""
    return session_close(day).time() < dt.time(16, 0)


# Market-on-close entry cutoffs, minutes before the close, by listing venue and
# the first date each rule applied. On early-close days the cutoff moves with
# the close (13:00 close -> 12:50 at NYSE today).
_MOC_CUTOFF_TABLE: dict[str, tuple[tuple[dt.date, int], ...]] = {
    "NYSE": (
        (dt.date(1900, 1, 1), 10),   # 15:50 before 2010
        (dt.date(2010, 1, 1), 15),   # 15:45 from 2010
        (dt.date(2019, 3, 1), 10),   # 15:50 again since early 2019
    ),
    "NASDAQ": (
        (dt.date(1900, 1, 1), 10),   # 15:50
        (dt.date(2019, 4, 15), 5),   # 15:55 since 2019-04-15
    ),
}


def moc_cutoff(day: dt.date, venue: str = "NYSE") -> pd.Timestamp:
    """The last time a market-on-close order may be entered on ``day`` at ``venue`` (NYSE or NASDAQ)."""
    if venue.upper() not in _MOC_CUTOFF_TABLE:
        raise ValueError(f"unknown venue {venue!r}; expected one of {sorted(_MOC_CUTOFF_TABLE)}")
    return _moc_cutoff(day, venue.upper())


def moc_minutes_before_close(day: dt.date, venue: str = "NYSE") -> int:
    """How many minutes before the close of ``day`` the market-on-close cutoff at ``venue`` falls."""
    if venue.upper() not in _MOC_CUTOFF_TABLE:
        raise ValueError(f"unknown venue {venue!r}; expected one of {sorted(_MOC_CUTOFF_TABLE)}")
    return _minutes_before(day, venue.upper())


@lru_cache(maxsize=65536)
def _minutes_before(day: dt.date, venue: str) -> int:
    return next(minutes for since, minutes in reversed(_MOC_CUTOFF_TABLE[venue]) if day >= since)


@lru_cache(maxsize=65536)   # a run asks for every session's cutoff, often more than once
def _moc_cutoff(day: dt.date, venue: str) -> pd.Timestamp:
    return session_close(day) - pd.Timedelta(minutes=_minutes_before(day, venue))
