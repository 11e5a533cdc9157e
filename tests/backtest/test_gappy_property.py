"""Property tests (seeded generators, many cases): on gappy data, the fast paths make exactly the run of
feeding every bar. Intraday: files that end right after a signal (the next bar, where the entry would
fill, missing). Daily: sessions missing at random, around the windows too."""
from __future__ import annotations

import itertools

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from gappy_bars import gappy_minute_bars
from test_daily_window_paths import _daily_config, _fast_run, _plain_run
from test_gappy_paths import assert_same_run, config
from runner.backtest.daily_window_feed import window_feeds
from runner.backtest.run import run_backtest
from runner.data.load import load_run_bars

NY = "America/New_York"


@pytest.mark.parametrize("seed", range(6))
def test_a_file_ending_right_after_a_signal(seed):
    bars = gappy_minute_bars(100 + seed, weeks=3, missing_share=0.05, drop_last_share=0.2)
    cfg = config(k=1.5, min_move_pct=0.1)
    full = run_backtest(cfg, bars={"SPY": bars}, fast=False)
    assert len(full.trades) > 0
    rng = np.random.default_rng(seed)
    entry = pd.Timestamp(full.trades["entry_time"].iloc[int(rng.integers(len(full.trades)))])
    signal = bars.index[bars.index < entry][-1]             # the bar the entry was decided on
    cut = bars[bars.index <= signal]                         # the file ends with the signal bar
    fast = run_backtest(cfg, bars={"SPY": cut}, fast=True)
    plain = run_backtest(cfg, bars={"SPY": cut}, fast=False)
    assert_same_run(fast, plain)
    assert (pd.to_datetime(plain.trades["entry_time"], utc=True) < entry).all()   # the last signal never fills


@pytest.mark.parametrize("seed", range(5))
def test_daily_sessions_missing_at_random(seed, monkeypatch):
    cfg = _daily_config({"strategies.december_fade.params.rally_pct": 0.75,
                         "strategies.december_fade.params.drift_min_pct": 0.5,
                         "strategies.january_snapback.params.five_day_return_pct": -1.0},
                        {"december_fade", "january_snapback"})
    bars = load_run_bars(cfg)
    rng = np.random.default_rng(seed)
    gappy = {}
    for name, frame in bars.items():
        if name.endswith(".bonds"):
            continue
        gappy[name] = frame[rng.random(len(frame)) >= 0.03]   # 3% of the sessions missing
    # the bond leg follows its instrument's dates (as a real pair of files would be aligned)
    for name, frame in bars.items():
        if name.endswith(".bonds"):
            gappy[name] = frame.loc[gappy[name.split(".")[0]].index]
    assert set(window_feeds(cfg, gappy)) == set(gappy)   # the window path is taken, not refused
    plain, fast = _plain_run(cfg, gappy, monkeypatch), _fast_run(cfg, gappy)
    assert len(plain.trades) > 0
    pd.testing.assert_frame_equal(fast.trades, plain.trades)
    pd.testing.assert_frame_equal(fast.orders, plain.orders)
    pd.testing.assert_frame_equal(fast.equity, plain.equity)
    bt.order.OrderBase.refbasis = itertools.count(1)
