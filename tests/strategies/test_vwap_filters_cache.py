"""The intraday fade's filters on the IB cache that flowbot fetch wrote from the simulated gateway:
SPY's 1-minute bars, SPY's and IWM's daily bars (data.source: cache, the legs by ib.feed_symbols).
The backtest reads the daily legs from the daily cache and decides as on the same bars given directly."""
import datetime as dt

import pandas as pd

from runner.backtest.run import run_backtest
from runner.cli import main
from runner.config import validate_config
from runner.data.intraday_sample import synthetic_minute_bars
from runner.data.load import load_run_bars
from runner.sim import SimulatedGateway

FIRST, LAST = dt.date(2019, 5, 1), dt.date(2019, 5, 31)


def to_daily(minutes: pd.DataFrame) -> pd.DataFrame:
    days = pd.DatetimeIndex(minutes.index.tz_convert("America/New_York").normalize())
    grouped = minutes.groupby(days)
    return pd.DataFrame({"open": grouped["open"].first(), "high": grouped["high"].max(), "low": grouped["low"].min(),
                         "close": grouped["close"].last(), "volume": grouped["volume"].sum()}).rename_axis("time")


def test_the_filter_legs_come_from_the_daily_cache(tmp_path):
    spy = synthetic_minute_bars(FIRST, LAST, seed=5, eligible=lambda day: True, push_share_eligible=1.0)
    iwm = synthetic_minute_bars(FIRST, LAST, seed=11, price=150.0)
    cache = tmp_path / "cache"
    with SimulatedGateway(bars={"SPY": spy, "IWM": iwm}, speed=0, paused=True, pacing=True, pacing_time_scale=0.01,
                          start="2019-06-03 09:00", wire_log=False) as gw:
        for symbol, size in (("SPY", "1 min"), ("SPY", "1 day"), ("IWM", "1 day")):
            assert main(["fetch", "--symbol", symbol, "--bar-size", size, "--start", str(FIRST), "--end", str(LAST),
                         "--set", f"ib.port={gw.port}", "--set", "ib.client_id=9", "--set", "ib.pacing_backoff=1",
                         "--cache", str(cache), "--no-progress"]) == 0
    raw = {"name": "cached", "data": {"source": "cache", "cache_folder": str(cache)}, "start": "2019-05-15",
           "broker": {"cash": 100_000, "slippage_pct": 0.0},
           "strategies": [{"name": "vwap_close_fade", "symbol": "SPY", "data": "sample:spy_1min_synthetic",
                           "feeds": {"SPY": "sample:sp500", "IWM": "sample:nasdaq"},
                           "params": {"every_day": True, "filters": [
                               {"signal": "rotation", "long": "IWM", "short": "SPY", "sessions": 5,
                                "min_pct": -100.0}]}}],
           "ib": {"feed_symbols": {"SPY.SPY": "SPY", "SPY.IWM": "IWM"}},
           "output": {"folder": str(tmp_path / "logs"), "report": False}}
    cfg = validate_config(raw, "cached")
    assert cfg.strategies[0].feeds["IWM"].cache == "IWM"
    bars = load_run_bars(cfg)
    assert len(bars["SPY.IWM"]) == len(bars["SPY.SPY"]) == 22            # May 2019's daily bars, not minutes
    cached = run_backtest(cfg, bars)
    given = run_backtest(cfg, {"SPY": bars["SPY"], "SPY.SPY": to_daily(spy), "SPY.IWM": to_daily(iwm)})
    assert len(cached.trades) >= 3
    assert cached.trades["filters"].tolist() == given.trades["filters"].tolist()
    assert cached.trades["filters"].str.contains(r"rotation IWM/SPY 5s [+-]\d", regex=True).all()
