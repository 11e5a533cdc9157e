"""Three generated years with known drift on June 29 (see test_pressure_generated)."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from strategies import market_calendar as cal

NY = "America/New_York"
YTD_BY_JUNE = {2016: 0.10, 2017: 0.20, 2018: 0.05}   # equities step up on June 1; bonds flat


def _frame(prices: dict[dt.date, float]) -> pd.DataFrame:
    days = sorted(prices)
    index = pd.DatetimeIndex([pd.Timestamp(d) for d in days]).tz_localize(NY)
    close = [prices[d] for d in days]
    frame = pd.DataFrame({"open": close, "high": [c + 1 for c in close], "low": [c - 1 for c in close],
                          "close": close, "volume": 1_000_000.0}, index=index)
    frame.index.name = "time"
    return frame


def equity_and_bonds(last: dt.date = dt.date(2018, 6, 29)) -> tuple[pd.DataFrame, pd.DataFrame]:
    equity, level = {}, 100.0
    for day in cal.sessions_between(dt.date(2016, 1, 4), last):
        if day.year != getattr(equity_and_bonds, "_year", None):
            equity_and_bonds._year = day.year
            base = level
        level = base * (1 + YTD_BY_JUNE[day.year]) if day >= dt.date(day.year, 6, 1) else base
        equity[day] = level
    bonds = {d: 50.0 for d in equity}
    return _frame(equity), _frame(bonds)


def write_csv(frame: pd.DataFrame, path) -> None:
    out = frame.copy()
    out.index = out.index.strftime("%Y-%m-%d")
    out.to_csv(path, index_label="time")
