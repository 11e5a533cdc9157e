"""Build small daily bar tables for golden scenarios.

The background is a quiet ramp (every bar's true range is exactly 10, so
ATR(14) = 10); the rows that matter are written out in each test.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from runner.config import validate_config
from strategies import market_calendar as cal

NY = "America/New_York"


def quiet_ramp(first: dt.date, last: dt.date, start: float, end: float) -> dict[dt.date, tuple]:
    """Sessions from first to last, open = previous close, closes moving linearly, range 10."""
    days = cal.sessions_between(first, last)
    rows, previous = {}, start
    for i, day in enumerate(days):
        close = start + (end - start) * i / max(len(days) - 1, 1)
        rows[day] = bar(previous, close)
        previous = close
    return rows


def bar(open_: float, close: float, high: float | None = None, low: float | None = None) -> tuple:
    mid = (open_ + close) / 2
    return (open_, high if high is not None else mid + 5, low if low is not None else mid - 5, close)


def frame(rows: dict[dt.date, tuple]) -> pd.DataFrame:
    days = sorted(rows)
    index = pd.DatetimeIndex([pd.Timestamp(d) for d in days]).tz_localize(NY)
    data = [rows[d] for d in days]
    df = pd.DataFrame(data, index=index, columns=["open", "high", "low", "close"])
    df["volume"] = 1_000_000.0
    df.index.name = "time"
    return df


def config(strategy: str, params: dict, symbol: str = "SPX", **broker) -> object:
    raw = {
        "name": "golden",
        "broker": {"cash": 100_000, "slippage_pct": 0.0, **broker},
        "strategies": [{"name": strategy, "symbol": symbol, "data": "sample:sp500", "params": params}],
    }
    return validate_config(raw, "golden")
