"""On gappy minute data (real files miss minutes, last bars, end mid-session) the fast path makes the
same trades, orders and equity as feeding every bar, and a market-on-close exit still fills that day."""
from __future__ import annotations

import pandas as pd
import pytest

from gappy_bars import gappy_minute_bars
from runner.backtest.run import run_backtest
from runner.config import validate_config

NY = "America/New_York"


def config(every_bar: bool | None = None, **params):
    raw = {"name": "gappy", "strategies": [{"name": "vwap_close_fade", "symbol": "SPY",
                                            "data": "sample:spy_1min_synthetic",
                                            "params": {"every_day": True, **params}}]}
    if every_bar is not None:
        raw["engine"] = {"every_bar": every_bar}
    return validate_config(raw, "gappy")


def assert_same_run(fast, plain):
    pd.testing.assert_frame_equal(fast.trades, plain.trades)
    pd.testing.assert_frame_equal(fast.equity, plain.equity)
    pd.testing.assert_frame_equal(fast.orders.drop(columns="order_id"), plain.orders.drop(columns="order_id"))


CASES = [(seed, shape) for seed in range(8) for shape in ("missing", "last_bar", "truncated")]


@pytest.mark.parametrize("seed,shape", CASES)
def test_fast_path_equals_every_bar_on_gappy_data(seed, shape):
    bars = gappy_minute_bars(seed, weeks=3,
                             missing_share={"missing": 0.1, "last_bar": 0.02, "truncated": 0.05}[shape],
                             drop_last_share={"missing": 0.1, "last_bar": 0.6, "truncated": 0.3}[shape],
                             truncate=shape == "truncated")
    params = {"k": 1.5, "min_move_pct": 0.1} if seed % 2 else {}
    cfg = config(**params)
    fast = run_backtest(cfg, bars={"SPY": bars}, fast=True)
    plain = run_backtest(cfg, bars={"SPY": bars}, fast=False)
    assert len(plain.trades) > 0
    assert_same_run(fast, plain)


def test_engine_every_bar_key_runs_the_plain_path():
    bars = gappy_minute_bars(3, weeks=2)
    every = run_backtest(config(every_bar=True), bars={"SPY": bars})
    plain = run_backtest(config(), bars={"SPY": bars}, fast=False)
    assert_same_run(every, plain)
    assert every.metrics["reproducibility"]["engine"] == "every_bar"


@pytest.mark.parametrize("fast", [True, False])
def test_moc_exit_fills_at_the_official_close_when_the_last_bar_is_missing(fast):
    bars = gappy_minute_bars(5, weeks=3, missing_share=0.0, drop_last_share=1.0)   # no session has its 15:59 bar
    result = run_backtest(config(exit_at_vwap=False, stop_pct=5.0, stop_z=9.0), bars={"SPY": bars}, fast=fast)
    trades = result.trades
    assert len(trades) > 0
    entry = pd.to_datetime(trades["entry_time"], utc=True).dt.tz_convert(NY)
    exit_ = pd.to_datetime(trades["exit_time"], utc=True).dt.tz_convert(NY)
    assert (entry.dt.date == exit_.dt.date).all(), "a position was held overnight"
    assert set(trades["exit_reason"]) == {"close"}
    assert (exit_.dt.strftime("%H:%M") == "16:00").all() | (exit_.dt.strftime("%H:%M") == "13:00").all()
    # The price: the close of the session's last bar in the data (the best estimate of the closing auction).
    local = bars.index.tz_convert(NY)
    last_close = bars["close"].groupby(local.date).last()
    expected = [last_close[d] for d in exit_.dt.date]
    slip = 0.02 / 100
    sides = trades["direction"].map({"long": -1, "short": 1}).to_numpy()   # selling a long slips down
    assert trades["exit_price"].to_numpy() == pytest.approx([p * (1 + s * slip) for p, s in zip(expected, sides)])


@pytest.mark.parametrize("fast", [True, False])
def test_entry_signalled_on_the_last_bar_does_not_fill_the_next_morning(fast):
    bars = gappy_minute_bars(7, weeks=3, missing_share=0.0, drop_last_share=0.0)
    local = bars.index.tz_convert(NY)
    # Every session's data ends with the window's first bar (15:30; 12:30 on early closes): a signal
    # on it has no bar left that day to fill on.
    minutes = local.hour * 60 + local.minute
    cut = bars[(minutes <= 15 * 60 + 30) & ~((local.date == pd.Timestamp("2018-11-23").date()) & (minutes > 12 * 60 + 30))]
    result = run_backtest(config(k=1.2, min_move_pct=0.05), bars={"SPY": cut}, fast=fast)
    entry = pd.to_datetime(result.trades["entry_time"], utc=True).dt.tz_convert(NY)
    assert (entry.dt.strftime("%H:%M") != "09:30").all()
    expired = result.orders[(result.orders["status"] == "Expired")]
    assert len(expired) > 0
