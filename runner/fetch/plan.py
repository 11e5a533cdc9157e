"""Which requests a fetch makes: sessions to fill, grouped into chunks of IB's largest duration.

Pure (no I/O). Contract:

- only XNYS sessions are ever requested (holidays and weekends never are),
  and only sessions that have closed by the gateway's ``now``;
- each chunk is one request ending at the close of its last session
  (the date's 20:00 with ``rth=False``), spanning IB's largest duration for
  the bar size (``backfill.request_shape``): 1 session of 1-2 minute bars,
  1 week from 3 minutes, 1 month from 30 minutes, 1 year of daily bars;
- sessions already in the cache are not requested again;
- chunks are planned newest first, as IB walks history backwards from its end.
- ``ADJUSTED_LAST`` (adjusted daily bars) only exists up to now: one request
  ending now (IB refuses an end time for it) reaching back to the first session.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from runner.errors import UserInputError
from runner.ib.backfill import request_shape
from runner.ib.bars import BarSize
from runner.ib.historical import HistoryQuery
from runner.ib.sessions import NEW_YORK, Sessions

#: Minute bar sizes IB serves (``1 hour`` and up are not offered by ``flowbot fetch``).
MINUTE_SIZES = (1, 2, 3, 5, 10, 15, 20, 30)
WHAT = ("TRADES", "ADJUSTED_LAST")


@dataclass(frozen=True)
class Chunk:
    """One request and the sessions it is meant to fill."""

    sessions: tuple[dt.date, ...]
    query: HistoryQuery

    @property
    def first(self) -> dt.date:
        return self.sessions[0]

    @property
    def last(self) -> dt.date:
        return self.sessions[-1]

    def label(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}..{self.last}"


def parse_bar_size(text: str) -> BarSize:
    """``1 min``, ``5 mins``, ``1 day`` (and the config's ``1min``/``1d``) -> BarSize."""
    try:
        size = BarSize.parse(text)
    except ValueError:
        size = None
    if size is None or not (size.daily or size.minutes in MINUTE_SIZES):
        allowed = ", ".join(f"'{m} min{'s' if m > 1 else ''}'" for m in MINUTE_SIZES)
        raise UserInputError(f"--bar-size {text!r}: expected one of {allowed}, '1 day'")
    return size


def bar_size_label(size: BarSize) -> str:
    """IB's wording: ``1 min``, ``5 mins``, ``1 day``."""
    return request_shape(size)[1]


def sessions_to_fetch(first: dt.date, last: dt.date, now: dt.datetime, sessions: Sessions,
                      done: set[dt.date] = frozenset()) -> list[dt.date]:
    """Sessions in [first, last] that have closed by ``now`` and are not ``done``."""
    return [d for d in sessions.sessions_between(first, last) if sessions.close_of(d) <= now and d not in done]


def request_end(day: dt.date, rth: bool, sessions: Sessions) -> dt.datetime:
    """End time of a request whose last session is ``day``: its close, or 20:00 when outside hours count."""
    if rth:
        return sessions.close_of(day)
    return dt.datetime.combine(day, dt.time(20, 0), NEW_YORK)


def _reach(end: dt.datetime, duration: str) -> pd.Timestamp:
    """Earliest moment a request of ``duration`` ending at ``end`` still covers."""
    count, unit = int(duration.split()[0]), duration.split()[1]
    stamp = pd.Timestamp(end)
    if unit == "W":
        return stamp - pd.Timedelta(weeks=count)
    if unit == "M":
        return stamp - pd.DateOffset(months=count)
    if unit == "Y":
        return stamp - pd.DateOffset(years=count)
    return stamp     # "D": only the session that ends there


def plan_chunks(days: list[dt.date], size: BarSize, sessions: Sessions, *, rth: bool = True,
                what: str = "TRADES") -> list[Chunk]:
    """Chunks covering ``days`` (sorted sessions to fetch), newest first (see module doc)."""
    if not days:
        return []
    duration, setting = request_shape(size)
    if what == "ADJUSTED_LAST":
        if not size.daily:
            raise UserInputError("--what ADJUSTED_LAST: IB adjusts daily bars only; use --bar-size '1 day'")
        years = max(1, -(-(dt.date.today() - days[0]).days // 365))
        return [Chunk(tuple(days), HistoryQuery("", f"{years} Y", setting, what, True))]
    chunks: list[Chunk] = []
    remaining = list(days)
    while remaining:
        last = remaining[-1]
        end = request_end(last, rth, sessions)
        reach = _reach(end, duration)
        members = [d for d in remaining if sessions.open_of(d) >= reach] if duration != "1 D" else [last]
        members = members or [last]
        chunks.append(Chunk(tuple(members), HistoryQuery(end, duration, setting, what, rth)))
        remaining = remaining[: len(remaining) - len(members)]
    return chunks
