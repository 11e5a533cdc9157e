"""Historical bars as reqHistoricalData serves them, from the dataset, up to the sim clock.

Contract:

* ``end`` (endDateTime): ``""`` is now; ``"YYYYMMDD HH:MM:SS"`` is New York
  time unless followed by a zone (``US/Eastern``, ``UTC``, any IANA name);
  ``"YYYYMMDD-HH:MM:SS"`` is UTC; ``"YYYYMMDD"`` is the end of that day. An end
  after the sim clock is cut to the clock: no bar from the future, and only
  bars that have completed (a session's daily bar appears after its close).
* ``duration`` (durationStr): ``N S`` seconds, ``N D`` the last N sessions,
  ``N W`` weeks, ``N M`` months, ``N Y`` years, counted back from the end.
* Bar sizes from ``1 secs`` to ``1 month``; bars finer than the dataset's
  cannot be made and raise ``HistoryError`` (the server answers error 162).
  Intraday bars are aligned to clock boundaries of their size and stamped at
  their first source bar (an RTH ``1 hour`` series starts 09:30, 10:00, ...).
  Daily, weekly and monthly bars are stamped with their first session's date.
* ``format_date`` 1 writes intraday stamps as ``YYYYMMDD HH:MM:SS US/Eastern``,
  2 as epoch seconds; daily and longer bars are always ``YYYYMMDD``.
* ``use_rth`` keeps only bars inside the session's regular hours.
  Every ``whatToShow`` is served from the same (TRADES) bars.
"""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from .dataset import BarSeries, to_new_york
from .layouts import ib_time
from .sessions import NEW_YORK, SessionCalendar

_SECONDS = {"sec": 1, "secs": 1, "min": 60, "mins": 60, "hour": 3600, "hours": 3600}
_PERIODS = {"day": "D", "days": "D", "week": "W", "weeks": "W", "month": "M", "months": "M"}
_DURATION = re.compile(r"^\s*(\d+)\s*([SDWMY])\s*$", re.IGNORECASE)


class HistoryError(Exception):
    """A request the dataset cannot answer; ``code`` is the IB error code to send."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def parse_bar_size(text: str) -> int | str:
    """Seconds for intraday sizes, or 'D'/'W'/'M'."""
    parts = text.strip().lower().split()
    if len(parts) == 2 and parts[0].isdigit():
        count, unit = int(parts[0]), parts[1]
        if unit in _SECONDS:
            return count * _SECONDS[unit]
        if unit in _PERIODS and count == 1:
            return _PERIODS[unit]
    raise HistoryError(321, f"Error validating request:-'bP' : cause - Invalid bar size '{text}'")


def parse_duration(text: str) -> tuple[int, str]:
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) <= 0:
        raise HistoryError(321, f"Error validating request:-'bP' : cause - Invalid duration format '{text}'")
    return int(match.group(1)), match.group(2).upper()


def parse_end(text: str, now: pd.Timestamp) -> pd.Timestamp:
    text = (text or "").strip()
    if not text:
        return now
    try:
        if re.fullmatch(r"\d{8}", text):
            moment = pd.Timestamp(dt.datetime.strptime(text, "%Y%m%d")).tz_localize(NEW_YORK)
            moment += pd.Timedelta(hours=23, minutes=59, seconds=59)
        elif re.fullmatch(r"\d{8}-\d{2}:\d{2}:\d{2}", text):
            moment = pd.Timestamp(dt.datetime.strptime(text, "%Y%m%d-%H:%M:%S")).tz_localize("UTC")
        else:
            day, clock, *zone = text.split(" ", 2)
            naive = pd.Timestamp(dt.datetime.strptime(day + clock, "%Y%m%d%H:%M:%S"))
            moment = naive.tz_localize(zone[0].strip() if zone else NEW_YORK)
    except (ValueError, KeyError, Exception) as exc:  # unknown zone names raise various errors
        raise HistoryError(321, f"Error validating request:-'bP' : cause - Invalid end date/time '{text}' ({exc})")
    return min(moment.tz_convert(NEW_YORK), now)


def window_start(end: pd.Timestamp, count: int, unit: str, calendar: SessionCalendar) -> pd.Timestamp:
    if unit == "S":
        return end - pd.Timedelta(seconds=count)
    if unit == "W":
        return end - pd.Timedelta(weeks=count)
    if unit == "M":
        return end - pd.DateOffset(months=count)
    if unit == "Y":
        return end - pd.DateOffset(years=count)
    # "D": the last `count` sessions that had opened by the end.
    first_day = (end - pd.Timedelta(days=count * 2 + 10)).date()
    days = [d for d in calendar.sessions_between(first_day, end.date()) if calendar.bounds(d)[0] < end]
    if not days:
        return end - pd.Timedelta(days=count)
    return calendar.bounds(days[-count] if len(days) >= count else days[0])[0]


def select_bars(series: BarSeries, end: pd.Timestamp, start: pd.Timestamp, use_rth: bool,
                calendar: SessionCalendar, whole_sessions: bool = False) -> pd.DataFrame:
    """Completed source bars in [start, end]; ``whole_sessions`` drops a session still open at ``end``."""
    frame = series.completed_before(end.timestamp())
    frame = frame[frame["start"] >= start.timestamp()]
    if whole_sessions and len(frame) and calendar.bounds(frame["session"].iloc[-1])[1] > end:
        frame = frame[frame["session"] != frame["session"].iloc[-1]]
    if use_rth and not series.daily and len(frame):
        bounds = {d: calendar.bounds(d) for d in dict.fromkeys(frame["session"])}
        opens = np.array([bounds[d][0].timestamp() for d in frame["session"]])
        closes = np.array([bounds[d][1].timestamp() for d in frame["session"]])
        frame = frame[(frame["start"] >= opens) & (frame["start"] < closes)]
    return frame


def aggregate(series: BarSeries, frame: pd.DataFrame, size: int | str) -> tuple[pd.DataFrame, bool]:
    """Bars of ``size`` from ``frame``; returns (bars, dated) where dated means 'YYYYMMDD' stamps."""
    if isinstance(size, int):
        if series.daily or size < series.bar_seconds or size % series.bar_seconds:
            raise HistoryError(162, "Historical Market Data Service error message:HMDS query returned no data: "
                                    f"the simulated dataset has no {size}-second bars for {series.symbol}")
        if size == series.bar_seconds:
            return frame.assign(count=1), False
        keys = frame["session"].astype(str) + "/" + (
            (frame.index.hour * 3600 + frame.index.minute * 60 + frame.index.second) // size).astype(str)
        return _group(frame, keys.to_numpy()), False
    if size == "D":
        return (frame.assign(count=1) if series.daily else _group(frame, frame["session"].to_numpy())), True
    sessions = pd.to_datetime(pd.Series(frame["session"].to_numpy()))
    if size == "W":
        iso = sessions.dt.isocalendar()
        keys = (iso["year"].astype(str) + "-" + iso["week"].astype(str)).to_numpy()
    else:
        keys = sessions.dt.strftime("%Y-%m").to_numpy()
    return _group(frame, keys), True


def _group(frame: pd.DataFrame, keys: np.ndarray) -> pd.DataFrame:
    grouped = frame.assign(_key=keys, _stamp=frame.index).groupby("_key", sort=False)
    out = grouped.agg(open=("open", "first"), high=("high", "max"), low=("low", "min"),
                      close=("close", "last"), volume=("volume", "sum"), start=("start", "first"),
                      session=("session", "first"), count=("open", "size"), stamp=("_stamp", "first"))
    return out.set_index("stamp")


def bar_rows(bars: pd.DataFrame, dated: bool, format_date: int) -> list[tuple]:
    """(date, open, high, low, close, volume, wap, count) rows for historicalData."""
    rows = []
    for stamp, o, h, l, c, v, n in zip(bars.index, bars["open"], bars["high"], bars["low"],
                                       bars["close"], bars["volume"], bars["count"]):
        if dated:
            label = stamp.strftime("%Y%m%d")
        elif format_date == 2:
            label = str(int(stamp.timestamp()))
        else:
            label = ib_time(stamp)
        volume = int(v) if float(v).is_integer() else float(v)
        rows.append((label, float(o), float(h), float(l), float(c), volume,
                     round((h + l + c) / 3.0, 6), int(n)))
    return rows


def head_timestamp(series: BarSeries, format_date: int) -> str:
    first = to_new_york(float(series.starts[0]))
    if format_date == 2:
        return str(int(first.timestamp()))
    return first.tz_convert("UTC").strftime("%Y%m%d-%H:%M:%S")
