"""The fast path also leaves out a session's bars after its trade has certainly left (stop or VWAP target
reached for every possible entry fill): the run is still exactly the every-bar run, over seeded gappy data,
slippages (none, the default, large) and exit settings, and fewer bars are fed than without the cut."""
from __future__ import annotations

import pandas as pd
import pytest

from gappy_bars import gappy_minute_bars
from test_gappy_paths import assert_same_run
from runner.backtest.run import run_backtest
from runner.config import validate_config
from strategies.vwap_close_fade import VwapCloseFadeParams
from strategies.vwap_fade_fast import SessionGrid, bars_to_feed, indicator_lines

CASES = [(seed, slippage, params) for seed, (slippage, params) in enumerate(
    [(0.0, {}), (0.02, {}), (0.5, {}), (0.02, {"exit_at_vwap": False}), (0.02, {"stop_pct": 0.5, "k": 1.5}),
     (0.0, {"stop_z": 2.2, "k": 2.0, "stop_pct": 1.0}), (0.1, {"venue": "NASDAQ"}), (0.02, {"min_move_pct": 0.1})])]


def _config(slippage: float, params: dict):
    raw = {"name": "cut", "broker": {"slippage_pct": slippage},
           "strategies": [{"name": "vwap_close_fade", "symbol": "SPY", "data": "sample:spy_1min_synthetic",
                           "params": {"every_day": True, **params}}]}
    return validate_config(raw, "cut")


@pytest.mark.parametrize("seed,slippage,params", CASES)
def test_cut_after_the_exit_equals_every_bar(seed, slippage, params):
    bars = gappy_minute_bars(40 + seed, weeks=3, missing_share=0.05, drop_last_share=0.2, truncate=seed % 3 == 0)
    cfg = _config(slippage, params)
    fast = run_backtest(cfg, bars={"SPY": bars}, fast=True)
    plain = run_backtest(cfg, bars={"SPY": bars}, fast=False)
    assert len(plain.trades) > 0
    assert_same_run(fast, plain)


def test_the_cut_feeds_fewer_bars_and_never_before_a_stop_or_target_exit():
    bars = gappy_minute_bars(7, weeks=4, missing_share=0.02, drop_last_share=0.1)
    p = VwapCloseFadeParams(every_day=True)
    grid = SessionGrid(bars.index)
    lines = indicator_lines(bars, grid=grid)
    whole = bars_to_feed(bars, lines, [p], grid=grid)
    cut = bars_to_feed(bars, lines, [p], grid=grid, slippage=0.0002)
    assert (cut <= whole).all() and cut.sum() < whole.sum()
    plain = run_backtest(_config(0.02, {}), bars={"SPY": bars}, fast=False)
    early = plain.trades[plain.trades["exit_reason"] != "close"]
    assert len(early) > 0
    fed = bars.index[cut]
    for exit_time in pd.to_datetime(early["exit_time"], utc=True):   # a fed bar within the exit's minute
        assert ((fed >= exit_time - pd.Timedelta(minutes=1)) & (fed <= exit_time)).any()
