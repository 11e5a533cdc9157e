"""Period-to-date total returns (year, quarter, month), from a bar table, no look-ahead.

The base of a period is the last total-return close before its first calendar
day. When the data starts on the period's first session, its open (adjusted like
the close) is the base; when it starts later in the period, the return is unknown.
"""
from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
import pandas as pd

from strategies.market_calendar import sessions_of_month

Period = Literal["year", "quarter", "month"]
PERIODS: tuple[str, ...] = ("year", "quarter", "month")


def period_first_month(day: dt.date, period: Period) -> int:
    """The calendar month the ``period`` containing ``day`` starts in."""
    if period == "year":
        return 1
    if period == "quarter":
        return 3 * ((day.month - 1) // 3) + 1
    if period == "month":
        return day.month
    raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")


def period_key(day: dt.date, period: Period) -> tuple[int, int]:
    """(year, first month) naming the period that contains ``day``."""
    return day.year, period_first_month(day, period)


def period_start(day: dt.date, period: Period) -> dt.date:
    """The first calendar day of the period containing ``day``."""
    return dt.date(day.year, period_first_month(day, period), 1)


def is_first_session_of_period(day: dt.date, period: Period) -> bool:
    sessions = sessions_of_month(day.year, period_first_month(day, period))
    return bool(sessions) and sessions[0] == day


def total_return_closes(bars: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(close, open) on a total-return basis: ``adj_close`` when present, the open scaled alike."""
    if "adj_close" in bars:
        ratio = bars["adj_close"] / bars["close"]
        return bars["adj_close"].astype(float), (bars["open"] * ratio).astype(float)
    return bars["close"].astype(float), bars["open"].astype(float)


def bar_dates(index: pd.DatetimeIndex) -> list[dt.date]:
    local = index.tz_convert("America/New_York") if index.tz is not None else index
    return [ts.date() for ts in local]


def period_to_date(bars: pd.DataFrame, period: Period) -> pd.Series:
    """For every bar, its total return since the base of its period (fraction; NaN when unknown)."""
    closes, opens = total_return_closes(bars)
    close_values, open_values = closes.to_numpy(), opens.to_numpy()
    dates = bar_dates(bars.index)
    out = np.full(len(dates), np.nan)
    base, current = np.nan, None
    for i, day in enumerate(dates):
        key = period_key(day, period)
        if key != current:
            if i > 0:
                base = close_values[i - 1]
            else:
                base = open_values[0] if is_first_session_of_period(day, period) else np.nan
            current = key
        out[i] = close_values[i] / base - 1.0
    return pd.Series(out, index=bars.index, name=f"{period}_to_date")


def value_on(series: pd.Series, day: dt.date) -> float:
    """The value of the last bar on or before ``day`` (NaN if none)."""
    end = pd.Timestamp(day) + pd.Timedelta(days=1)
    index = series.index.tz_localize(None) if series.index.tz is not None else series.index
    position = int(np.searchsorted(index.values, end.to_datetime64(), side="left")) - 1
    return float(series.iloc[position]) if position >= 0 else float("nan")
