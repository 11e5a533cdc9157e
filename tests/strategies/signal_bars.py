"""Generated daily bars with known answers for the signal tests."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from strategies import market_calendar as cal

NY = "America/New_York"


def bars_from(closes: dict[dt.date, float], volumes: dict[dt.date, float] | None = None,
              opens: dict[dt.date, float] | None = None) -> pd.DataFrame:
    """A bar table: given closes (open = given open or the close), high/low around them, volume 1e6 unless given."""
    days = sorted(closes)
    index = pd.DatetimeIndex([pd.Timestamp(d) for d in days]).tz_localize(NY)
    close = [closes[d] for d in days]
    open_ = [(opens or {}).get(d, closes[d]) for d in days]
    frame = pd.DataFrame({"open": open_, "close": close}, index=index)
    frame["high"] = frame[["open", "close"]].max(axis=1) + 1.0
    frame["low"] = frame[["open", "close"]].min(axis=1) - 1.0
    frame["volume"] = [(volumes or {}).get(d, 1_000_000.0) for d in days]
    frame.index.name = "time"
    return frame[["open", "high", "low", "close", "volume"]]


def flat(first: dt.date, last: dt.date, close: float = 100.0) -> dict[dt.date, float]:
    return {d: close for d in cal.sessions_between(first, last)}


def last_sessions(year: int, months) -> dict[int, dt.date]:
    return {m: cal.nth_session_of_month(year, m, -1) for m in months}


def perturb_after(bars: pd.DataFrame, day: dt.date, factor: float = 1.7) -> pd.DataFrame:
    """The same bars with every bar after ``day`` changed (prices and volume scaled)."""
    changed = bars.copy()
    later = changed.index.tz_localize(None) > pd.Timestamp(day)
    for column in ("open", "high", "low", "close"):
        changed.loc[later, column] *= factor
    changed.loc[later, "volume"] *= factor * 3
    return changed
