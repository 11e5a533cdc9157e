"""Small bar sets for the simulated gateway's tests, on real NYSE sessions."""
from __future__ import annotations

import time

import exchange_calendars as xcals
import numpy as np
import pandas as pd

NY = "America/New_York"

#: Seconds: a bound on waiting for an event, never a speed (a loaded machine only makes a test slower).
PATIENCE = 120.0


def sessions(first: str, count: int) -> list[pd.Timestamp]:
    cal = xcals.get_calendar("XNYS", start="2015-01-01", end="2026-12-31")
    days = cal.sessions_in_range(first, pd.Timestamp(first) + pd.Timedelta(days=count * 2 + 10))
    return [pd.Timestamp(d.date()).tz_localize(NY) for d in days[:count]]


def daily_frame(rows: list[tuple], first: str = "2024-03-04") -> pd.DataFrame:
    """Daily bars from (open, high, low, close, volume) rows, on consecutive NYSE sessions."""
    index = pd.DatetimeIndex(sessions(first, len(rows)))
    return pd.DataFrame(rows, columns=["open", "high", "low", "close", "volume"], index=index)


def random_daily(count: int, first: str = "2023-01-03", seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 400 * np.cumprod(1 + rng.normal(0, 0.01, count))
    open_ = close * (1 + rng.normal(0, 0.004, count))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.006, count))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.006, count))
    volume = rng.integers(50_000_000, 90_000_000, count)
    index = pd.DatetimeIndex(sessions(first, count))
    return pd.DataFrame({"open": open_.round(2), "high": high.round(2), "low": low.round(2),
                         "close": close.round(2), "volume": volume}, index=index)


def random_minutes(day: str, minutes: int = 390, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(f"{day} 09:30").tz_localize(NY)
    index = pd.date_range(start, periods=minutes, freq="1min")
    close = 470 + np.cumsum(rng.normal(0, 0.1, minutes))
    open_ = np.concatenate([[470.0], close[:-1]])
    high = np.maximum(open_, close) + rng.uniform(0, 0.05, minutes)
    low = np.minimum(open_, close) - rng.uniform(0, 0.05, minutes)
    volume = rng.integers(1_000, 50_000, minutes)
    return pd.DataFrame({"open": open_.round(2), "high": high.round(2), "low": low.round(2),
                         "close": close.round(2), "volume": volume}, index=index)


def wait_for(ib, predicate, timeout: float = PATIENCE) -> bool:
    """Run the client's loop until ``predicate()`` holds (True) or the timeout passes (False).

    The timeout is never below :data:`PATIENCE`: what a test waits for is an event, not a speed.
    """
    deadline = time.monotonic() + max(timeout, PATIENCE)
    while time.monotonic() < deadline:
        if predicate():
            return True
        try:
            ib.sleep(0.01)
        except ConnectionError:    # ib_insync raises from sleep() when the socket drops
            pass
    return bool(predicate())


def qualified_spy(ib, lib):
    """SPY on SMART, qualified through the client library ``lib``."""
    contract = lib.Stock("SPY", "SMART", "USD")
    ib.qualifyContracts(contract)
    return contract
