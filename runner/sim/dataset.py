"""The bar dataset the gateway replays, with each bar's real time span.

Input contract: ``{symbol: DataFrame}`` with a tz-aware America/New_York
DatetimeIndex (naive indexes are taken as New York time) and columns open,
high, low, close, volume (any capitalisation). Daily bars are stamped at the
session date (midnight); intraday bars at their start.

Each bar gets a span ``[start, end)`` in epoch seconds: a daily bar runs from
the session's open to its close (early closes from XNYS); an intraday bar runs
for the series' bar length, cut at the session close.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .sessions import NEW_YORK, SessionCalendar

COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass
class BarSeries:
    """One symbol's bars as arrays (fast to replay) plus the frame (easy to aggregate)."""

    symbol: str
    frame: pd.DataFrame          # index: bar stamp (NY); columns COLUMNS + start, end, session
    daily: bool
    bar_seconds: int             # 86400 for daily bars

    @property
    def starts(self) -> np.ndarray:
        return self.frame["start"].to_numpy()

    @property
    def ends(self) -> np.ndarray:
        return self.frame["end"].to_numpy()

    def completed_before(self, now: float) -> pd.DataFrame:
        """Bars whose span has ended by ``now`` (epoch seconds): what history may show."""
        count = int(np.searchsorted(self.ends, now, side="right"))
        return self.frame.iloc[:count]

    def last_price(self, now: float) -> float | None:
        """Close of the last bar completed by ``now`` (None before the first bar)."""
        done = self.completed_before(now)
        return float(done["close"].iloc[-1]) if len(done) else None


def _standard_frame(symbol: str, frame: pd.DataFrame) -> pd.DataFrame:
    renamed = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})
    missing = [c for c in COLUMNS if c not in renamed.columns]
    if missing:
        raise ValueError(f"bars for {symbol}: missing columns {missing}")
    out = renamed.loc[:, list(COLUMNS)].astype(float)
    index = pd.DatetimeIndex(out.index)
    index = index.tz_localize(NEW_YORK) if index.tz is None else index.tz_convert(NEW_YORK)
    out.index = index
    out = out[~out.index.duplicated(keep="last")].sort_index()
    if out.empty:
        raise ValueError(f"bars for {symbol}: no rows")
    return out


def _is_daily(index: pd.DatetimeIndex) -> bool:
    return bool((index == index.normalize()).all())


def epoch_seconds(index: pd.DatetimeIndex) -> np.ndarray:
    """Epoch seconds of a DatetimeIndex, whatever its resolution (pandas 3 keeps s/ms/us/ns)."""
    return index.as_unit("s").asi8.astype(np.int64)


def _bar_seconds(index: pd.DatetimeIndex) -> int:
    steps = np.diff(epoch_seconds(index))
    steps = steps[(steps > 0) & (steps < 86_400)]
    return int(np.median(steps)) if len(steps) else 60


def build_series(bars: dict[str, pd.DataFrame]) -> tuple[dict[str, BarSeries], SessionCalendar]:
    """Normalise every symbol's frame and attach spans from one shared calendar."""
    frames = {symbol: _standard_frame(symbol, frame) for symbol, frame in bars.items()}
    if not frames:
        raise ValueError("the simulated gateway needs at least one symbol's bars")
    first = min(f.index[0].date() for f in frames.values())
    last = max(f.index[-1].date() for f in frames.values())
    calendar = SessionCalendar(first, last)
    series = {symbol: _with_spans(symbol, frame, calendar) for symbol, frame in frames.items()}
    return series, calendar


def _with_spans(symbol: str, frame: pd.DataFrame, calendar: SessionCalendar) -> BarSeries:
    daily = _is_daily(frame.index)
    length = 86_400 if daily else _bar_seconds(frame.index)
    days = [stamp.date() for stamp in frame.index]
    bounds = {day: calendar.bounds(day) for day in dict.fromkeys(days)}
    opens = np.array([int(bounds[d][0].timestamp()) for d in days], dtype=np.int64)
    closes = np.array([int(bounds[d][1].timestamp()) for d in days], dtype=np.int64)
    if daily:
        starts, ends = opens, closes
    else:
        starts = epoch_seconds(frame.index)
        # Cut at the session close, except for bars outside regular hours.
        ends = np.where(starts < closes, np.minimum(starts + length, closes), starts + length)
    out = frame.copy()
    out["start"] = starts
    out["end"] = ends
    out["session"] = days
    return BarSeries(symbol=symbol, frame=out, daily=daily, bar_seconds=length)


def to_new_york(epoch_seconds: float) -> pd.Timestamp:
    return pd.Timestamp(epoch_seconds, unit="s", tz="UTC").tz_convert(NEW_YORK)


def session_of(stamp: dt.datetime) -> dt.date:
    return pd.Timestamp(stamp).tz_convert(NEW_YORK).date()
