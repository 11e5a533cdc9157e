"""Checks that 1-minute bars are what an intraday playbook needs (on top of ``validate_bars``).

``validate_bars`` already refuses unsorted and duplicate times with the row.
Here, for 1-minute regular-hours bars stamped at their start:

* a daily file is refused (the playbook needs minutes);
* times must be whole minutes, and bars one minute apart (a 5-minute file is refused);
* bars outside regular hours (before 09:30, at or after the close, which is
  13:00 on early-close days, or on a day NYSE did not trade) are refused, or
  dropped with a warning when the data source says ``outside_hours: drop``;
* missing minutes are reported (a warning with counts and the first gap), not
  repaired: the VWAP of a session with gaps is the VWAP of the bars it has.

Every refusal is a :class:`DataError` naming the source, the row and the value.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from loguru import logger

from runner.data.bars import RowLabel, default_row_label, is_daily
from runner.errors import DataError
from strategies import market_calendar as cal
from strategies.wall_clock import new_york_ns

MINUTE_NS = 60_000_000_000
OPEN_MINUTE = 9 * 60 + 30


def check_intraday(bars: pd.DataFrame, source: str, row_label: RowLabel = default_row_label, *,
                   outside_hours: str = "refuse", who: str = "an intraday playbook") -> pd.DataFrame:
    """The bars, checked (and with off-hours bars dropped if ``outside_hours == "drop"``)."""
    if is_daily(bars):
        raise DataError(f"{source}: daily bars (one per session, first {bars.index[0].date()}) but {who} needs "
                        f"1-minute bars stamped at their start, e.g. 2019-03-01 15:41:00")
    stamps = new_york_ns(bars.index)   # kept for the fast feed's session grid of the same index
    local = pd.DatetimeIndex(stamps.view("datetime64[ns]"))
    off_minute = stamps % MINUTE_NS != 0
    if off_minute.any():
        i = int(np.argmax(off_minute))
        raise DataError(f"{source}: {row_label(i)}: time {local[i]} is not on a whole minute; "
                        f"expected 1-minute bars stamped at their start")
    day_ns = stamps - stamps % 86_400_000_000_000   # midnight of each bar's day
    minute = (stamps - day_ns) // MINUTE_NS
    days, _, counts, in_order = _days_of(day_ns)
    close_minute = _close_minutes(days)
    # Each bar's day's close: a run of bars per day, or (days out of order) each bar's day looked up.
    closes = np.repeat(close_minute, counts) if in_order else close_minute[np.searchsorted(days, day_ns)]
    outside = (closes < 0) | (minute < OPEN_MINUTE) | (minute + 1 > closes)
    if outside.any():
        i = int(np.argmax(outside))
        if outside_hours != "drop":
            why = ("NYSE did not trade that day" if closes[i] < 0 else
                   f"regular hours are 09:30 to {closes[i] // 60:02d}:{closes[i] % 60:02d}, the last bar starts "
                   f"a minute before the close")
            raise DataError(f"{source}: {row_label(i)}: bar at {local[i]} is outside regular hours ({why}); "
                            f"{int(outside.sum())} such bar(s). Remove them, or set the data source's "
                            f"outside_hours: drop")
        logger.warning(f"{source}: dropped {int(outside.sum())} bar(s) outside regular hours "
                       f"(first {row_label(i)}: {local[i]})")
        keep = ~outside
        bars, local, day_ns, minute, closes = bars[keep], local[keep], day_ns[keep], minute[keep], closes[keep]
        if bars.empty:
            raise DataError(f"{source}: no bars inside regular hours")
    _check_spacing(local, day_ns, minute, source, row_label)
    _report_missing(local, day_ns, minute, closes, source)
    return bars


def _check_spacing(local, day_ns, minute, source: str, row_label: RowLabel) -> None:
    same_day = day_ns[1:] == day_ns[:-1]
    steps = (minute[1:] - minute[:-1])[same_day]
    # More than half the steps at most a minute: the upper middle one is, so the median is (no sort needed).
    if np.count_nonzero(steps <= 1) > len(steps) // 2:
        return
    if len(steps) and np.median(steps) > 1:
        i = int(np.flatnonzero(same_day)[0]) + 1
        raise DataError(f"{source}: bars are {int(np.median(steps))} minutes apart (e.g. {row_label(i)}: {local[i]}); "
                        f"this playbook needs 1-minute bars")


def _days_of(day_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(the distinct days, sorted; each one's first bar; its bar count; whether the days are in order).

    Times sorted by validate_bars keep their days in order (DST moves the clock at 2 AM, never across
    midnight): each day is then one run of bars, found where the day changes, without sorting 2 million
    values as ``np.unique`` does. Out of order (never after validate_bars), ``np.unique`` as before.
    """
    if not (day_ns[1:] >= day_ns[:-1]).all():
        return (*np.unique(day_ns, return_index=True, return_counts=True), False)
    first = np.flatnonzero(np.r_[True, day_ns[1:] != day_ns[:-1]])
    return day_ns[first], first, np.diff(np.r_[first, len(day_ns)]), True


def _close_minutes(days: np.ndarray) -> np.ndarray:
    """Per day (local midnights in ns, sorted, distinct): the minute of the day NYSE closed, or -1 if it did
    not trade (as ``session_close``, for all the days at once)."""
    dates = days.astype("datetime64[ns]").astype("datetime64[D]")
    close_minute = np.full(len(days), -1, dtype=np.int64)
    trading = cal.are_sessions(dates)
    _, closes_utc = cal.sessions_among(dates[trading])
    wall = pd.DatetimeIndex(closes_utc.astype("datetime64[ns]")).tz_localize("UTC").tz_convert(cal.NEW_YORK)
    close_minute[trading] = (wall.tz_localize(None).asi8 % 86_400_000_000_000) // MINUTE_NS
    return close_minute


def _report_missing(local, day_ns, minute, closes, source: str) -> None:
    days, first, counts, _ = _days_of(day_ns)
    expected = closes[first] - OPEN_MINUTE
    short = counts < expected
    sessions = cal.sessions_between(local[0].date(), local[-1].date())
    absent = len(sessions) - len(days)
    if not short.any() and absent <= 0:
        return
    missing = int((expected - counts)[short].sum())
    where = ""
    if short.any():
        j = int(np.argmax(short))
        lo, hi = first[j], first[j] + counts[j]
        have = set(minute[lo:hi].tolist())
        gap = next(m for m in range(OPEN_MINUTE, int(closes[first[j]])) if m not in have)
        where = f"; first gap {pd.Timestamp(days[j]).date()} {gap // 60:02d}:{gap % 60:02d}"
    logger.warning(f"{source}: {missing} missing minute(s) in {int(short.sum())} of {len(days)} sessions"
                   f"{where}" + (f"; {absent} session(s) with no bars at all" if absent > 0 else "")
                   + " (VWAP uses the bars present)")
