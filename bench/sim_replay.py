"""Benchmark: how fast the simulated gateway replays at full speed, seen by a real client.

Prints, for one year of daily bars and one month of 1-minute bars (synthetic),
the wall time of the replay with a client subscribed to 5-second bars, the
number of bars the client received, and whether they aggregate exactly to the
source bars. Run: PYTHONPATH=. python bench/sim_replay.py [ib_insync|ib_async]
"""
from __future__ import annotations

import importlib
import sys
import time

import exchange_calendars as xcals
import numpy as np
import pandas as pd
from loguru import logger

from runner.sim import SimulatedGateway

NY = "America/New_York"


def daily_year() -> pd.DataFrame:
    days = xcals.get_calendar("XNYS").sessions_in_range("2023-01-01", "2023-12-31")
    rng = np.random.default_rng(1)
    close = 380 * np.cumprod(1 + rng.normal(0, 0.01, len(days)))
    open_ = close * (1 + rng.normal(0, 0.003, len(days)))
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.004,
                         "low": np.minimum(open_, close) * 0.996, "close": close,
                         "volume": rng.integers(5e7, 9e7, len(days))},
                        index=pd.DatetimeIndex([pd.Timestamp(d.date()).tz_localize(NY) for d in days]))


def minute_month() -> pd.DataFrame:
    cal = xcals.get_calendar("XNYS")
    frames = []
    rng = np.random.default_rng(2)
    for day in cal.sessions_in_range("2023-03-01", "2023-03-31"):
        opened = cal.session_open(day).tz_convert(NY)
        closed = cal.session_close(day).tz_convert(NY)
        index = pd.date_range(opened, closed, freq="1min", inclusive="left")
        close = 400 + np.cumsum(rng.normal(0, 0.05, len(index)))
        frames.append(pd.DataFrame({"open": close, "high": close + 0.05, "low": close - 0.05, "close": close,
                                    "volume": rng.integers(1e3, 5e4, len(index))}, index=index))
    return pd.concat(frames)


def replay(lib, bars: pd.DataFrame, label: str, **options) -> None:
    gw = SimulatedGateway({"SPY": bars}, speed=0, paused=True, wire_log=False, **options).start()
    ib = lib.IB()
    ib.connect("127.0.0.1", gw.port, clientId=1, timeout=5)
    contract = lib.Stock("SPY", "SMART", "USD")
    ib.qualifyContracts(contract)
    received = ib.reqRealTimeBars(contract, 5, "TRADES", True)
    started = time.perf_counter()
    gw.resume()
    while not gw.wait_until_done(0):
        ib.sleep(0.01)
    ib.sleep(0.2)
    elapsed = time.perf_counter() - started
    frame = pd.DataFrame([(b.time, b.open_, b.high, b.low, b.close, b.volume) for b in received],
                         columns=["time", "open", "high", "low", "close", "volume"])
    key = pd.to_datetime(frame.time, utc=True).dt.tz_convert(NY)
    key = key.dt.normalize() if label.startswith("daily") else key.dt.floor("1min")
    agg = frame.groupby(key.to_numpy()).agg(open=("open", "first"), high=("high", "max"), low=("low", "min"),
                                            close=("close", "last"), volume=("volume", "sum"))
    exact = np.allclose(agg.to_numpy(), bars.astype(float).to_numpy(), rtol=0, atol=0)
    print(f"{label:<34} {len(bars):>6} source bars  {len(received):>7} 5-s bars  "
          f"{elapsed:6.2f} s  exact={exact}")
    ib.disconnect()
    gw.stop()


def main() -> None:
    logger.remove()
    lib = importlib.import_module(sys.argv[1] if len(sys.argv) > 1 else "ib_async")
    print(f"client library: {lib.__name__}")
    daily = daily_year()
    replay(lib, daily, "daily, 1 year, session_pause 50 ms", session_pause=0.05)
    replay(lib, daily, "daily, 1 year, session_pause 0", session_pause=0.0)
    replay(lib, minute_month(), "1-minute, 1 month, bar_pause 0", session_pause=0.05)


if __name__ == "__main__":
    main()
