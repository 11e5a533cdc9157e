"""The fast backtest path makes the same trades as the plain one (every bar through backtrader).

The fast path precomputes the session VWAP lines with numpy and feeds only the
bars the playbook can act on; the plain path computes them bar by bar. Both
must agree to the last bit and the last fill.
"""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from runner.backtest.run import run_backtest
from runner.config import validate_config
from runner.data.intraday_sample import synthetic_minute_bars
from strategies.session_vwap import SessionVwap, SlotVolume, cumulative_by_minute
from strategies.vwap_close_fade import VwapCloseFadeParams
from strategies.vwap_fade_fast import SessionGrid, bars_to_feed, indicator_lines


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    # Eight weeks over a month end, a quarter end and the turn of the year; pushes on most days.
    return synthetic_minute_bars(dt.date(2018, 11, 19), dt.date(2019, 1, 11), seed=11,
                                 eligible=lambda day: True, push_share_eligible=0.7)


def config(**params):
    raw = {"name": "paths", "strategies": [{"name": "vwap_close_fade", "symbol": "SPY",
                                            "data": "sample:spy_1min_synthetic", "params": params}]}
    return validate_config(raw, "paths")


def test_vectorized_lines_equal_bar_by_bar_to_the_bit(bars):
    lines = indicator_lines(bars, slot_volume=True)
    running, slots = SessionVwap(), SlotVolume()
    grid = SessionGrid(bars.index)
    h, l, c, v = (bars[k].to_numpy() for k in ("high", "low", "close", "volume"))
    for r, (first, last) in enumerate(zip(grid.session_start, grid.session_end)):
        running.reset()
        length = int(grid.length[r])
        for i in range(first, last + 1):
            vwap, sigma = running.update(h[i], l[i], c[i], v[i])
            assert vwap == lines["vwap"][i] and sigma == lines["sigma"][i]
            if grid.col[i] + 1 > length - 31:
                cum = cumulative_by_minute(grid.col[first:i + 1], v[first:i + 1], length)
                expected = slots.ratio(cum, int(grid.col[i]) + 1, length)
                assert expected == lines["slot_ratio"][i] or (np.isnan(expected) and np.isnan(lines["slot_ratio"][i]))
        slots.add_session(cumulative_by_minute(grid.col[first:last + 1], v[first:last + 1], length), length)
    assert np.isfinite(lines["slot_ratio"]).any()


@pytest.mark.parametrize("params", [
    {"every_day": True},
    {},                                                       # the default eligible days
    {"every_day": True, "exit_at_vwap": False, "k": 1.5, "stop_pct": 0.5},
    {"every_day": True, "volume_ratio_min": 1.2},
    {"every_day": True, "venue": "NASDAQ"},
])
def test_fast_path_trades_equal_plain_path(bars, params):
    cfg = config(**params)
    fast = run_backtest(cfg, bars={"SPY": bars}, fast=True)
    plain = run_backtest(cfg, bars={"SPY": bars}, fast=False)
    assert len(plain.trades) > 0
    pd.testing.assert_frame_equal(fast.trades, plain.trades)
    pd.testing.assert_frame_equal(fast.equity, plain.equity)
    pd.testing.assert_frame_equal(fast.orders.drop(columns="order_id"), plain.orders.drop(columns="order_id"))


def test_fast_path_feeds_a_small_part_of_the_bars(bars):
    keep = bars_to_feed(bars, indicator_lines(bars), [VwapCloseFadeParams(every_day=True)])
    sessions = len(SessionGrid(bars.index).days)
    assert sessions <= keep.sum() < len(bars) / 20


def test_every_trade_is_flat_by_its_session_close(bars):
    result = run_backtest(config(every_day=True), bars={"SPY": bars})
    entry = pd.to_datetime(result.trades["entry_time"], utc=True).dt.tz_convert("America/New_York")
    exit_ = pd.to_datetime(result.trades["exit_time"], utc=True).dt.tz_convert("America/New_York")
    assert (entry.dt.date == exit_.dt.date).all()
    assert set(result.trades["exit_reason"]) <= {"close", "stop", "vwap_target"}
    assert (result.trades["exit_reason"] == "close").any()
