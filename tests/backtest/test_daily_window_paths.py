"""The daily fast path (window feeds) makes exactly the run the plain path makes.

Plain: every daily bar through backtrader, the ATR computed bar by bar. Fast:
only the bars around each playbook's window, the ATR precomputed. Trades,
orders and equity must be identical, for the CLI's run and for sweep runs.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from runner.backtest.daily_window_feed import (average_true_range, left_inside_windows, prepare, run_windowed,
                                               window_feeds)
from runner.backtest.recorder import RunLog
from runner.backtest.run import run_backtest
from runner.config import apply_override, read_yaml, validate_config
from runner.data.load import load_run_bars
from runner.data.sample import load_sample
from runner.optimize import runs
from runner.optimize.sweep import optimize, read_results

ROOT = Path(__file__).resolve().parents[2]


def _daily_config(overrides: dict, only: set[str]):
    raw, _ = read_yaml(ROOT / "config" / "backtest.yaml")
    for entry in raw["strategies"]:
        entry["enabled"] = entry["name"] in only
    for key, value in overrides.items():
        apply_override(raw, key, value, "test")
    return validate_config(raw, "test")


def _plain_run(cfg, bars, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr("runner.backtest.run.run_windowed", lambda *a, **k: None)
        bt.order.OrderBase.refbasis = itertools.count(1)
        return run_backtest(cfg, bars)


def _fast_run(cfg, bars):
    bt.order.OrderBase.refbasis = itertools.count(1)
    return run_backtest(cfg, bars)


def test_the_precomputed_atr_is_backtraders_value_for_value():
    bars = load_sample("sp500").iloc[:600]
    seen = []

    class Record(bt.Strategy):
        def __init__(self):
            self.atr = bt.indicators.AverageTrueRange(self.data, period=14)

        def prenext(self):
            seen.append(float("nan"))

        def next(self):
            seen.append(float(self.atr[0]))

    cerebro = bt.Cerebro(stdstats=False)
    naive = bars.copy()
    naive.index = bars.index.tz_localize(None)
    cerebro.adddata(bt.feeds.PandasData(dataname=naive, openinterest=None))
    cerebro.addstrategy(Record)
    cerebro.run()
    mine = average_true_range(bars, 14)
    assert np.isnan(mine[:14]).all() and np.isnan(seen[:14]).all()
    assert mine[14:].tolist() == seen[14:]   # exact, not approximately


@pytest.mark.parametrize("only, overrides", [
    ({"december_fade", "january_snapback"}, {}),
    ({"december_fade"}, {"strategies.december_fade.params.rally_pct": 0.5,
                         "strategies.december_fade.params.drift_min_pct": 0.0,
                         "strategies.december_fade.params.entry": "next_close",
                         "strategies.december_fade.params.trail_atr": 0.5,
                         "strategies.december_fade.params.trail_after_atr": 0.1}),
    ({"december_fade"}, {"strategies.december_fade.params.rally_pct": 0.5,
                         "strategies.december_fade.params.drift_min_pct": 0.0,
                         "strategies.december_fade.params.volume_ratio_min": 0.8}),
    ({"january_snapback"}, {"strategies.january_snapback.params.entry": "next_open",
                            "strategies.january_snapback.params.hold_sessions": 12,
                            "strategies.january_snapback.params.five_day_return_pct": -0.5,
                            "strategies.january_snapback.params.atr_period": 5}),
])
def test_window_feeds_make_the_plain_paths_run(only, overrides, monkeypatch):
    # The metrics carry the checkout's git state (``git status`` with a 5 s timeout): on a loaded machine,
    # or with a commit landing between the two runs, it differed between them ("abc+dirty" against None)
    # and this test failed on the run's record, not on its numbers. One state for both runs.
    monkeypatch.setattr("runner.report.provenance._git_commit", lambda: "0" * 40)
    cfg = _daily_config(overrides, only)
    bars = load_run_bars(cfg)
    assert set(window_feeds(cfg, bars)) == set(bars)   # every daily feed is windowed
    plain, fast = _plain_run(cfg, bars, monkeypatch), _fast_run(cfg, bars)
    assert len(fast.trades) > 0
    pd.testing.assert_frame_equal(fast.trades, plain.trades)
    pd.testing.assert_frame_equal(fast.orders, plain.orders)
    pd.testing.assert_frame_equal(fast.equity, plain.equity)
    assert fast.metrics == plain.metrics


def test_window_feeds_carry_a_few_percent_of_the_bars():
    cfg = _daily_config({}, {"december_fade"})
    bars = load_run_bars(cfg)
    prepared = window_feeds(cfg, bars)["SPX"]
    assert int(prepared.keep.sum()) < len(bars["SPX"]) / 10
    # the same bars and windows are prepared once (a sweep reuses them)
    assert window_feeds(cfg, bars)["SPX"] is prepared


def test_a_trade_outside_the_fed_bars_sends_the_run_to_the_plain_path():
    bars = load_sample("sp500").iloc[:800]
    windows = [(pd.Timestamp("2000-12-18"), pd.Timestamp("2000-12-29"), 3)]
    prepared = {"SPX": prepare(bars, windows, 14)}
    first, last = prepared["SPX"].spans[0]

    def log(exit_time, statuses, open_trades=()):
        runlog = RunLog()
        runlog.trades.append({"symbol": "SPX", "entry_time": first.isoformat(), "exit_time": exit_time.isoformat()})
        runlog.orders.extend({"symbol": "SPX", "order_id": i, "status": s} for i, s in statuses)
        runlog._open.update({key: None for key in open_trades})
        return runlog

    done = [(1, "Accepted"), (1, "Completed")]
    assert left_inside_windows(log(last, done), prepared)
    assert not left_inside_windows(log(last + pd.Timedelta(days=40), done), prepared)
    assert not left_inside_windows(log(last, [*done, (2, "Accepted")]), prepared)
    assert not left_inside_windows(log(last, done, [("december_fade", "SPX")]), prepared)

def test_a_bar_off_the_nyse_calendar_gets_the_plain_path():
    bars = load_sample("sp500").iloc[:300].copy()
    saturday = pd.Timestamp("1999-03-06", tz="America/New_York")
    moved = bars.index.tolist()
    moved[44] = saturday
    bars.index = pd.DatetimeIndex(moved, name="time")
    assert prepare(bars, [(pd.Timestamp("1999-12-17"), pd.Timestamp("1999-12-31"), 3)], 14) is None


SWEEP = """\
name: identity
base: {base}
strategies: [{playbook}]
parameters:
{parameters}
search: {{method: grid}}
objective: {{metric: total_return_pct, direction: maximize}}
walk_forward: {{train_years: 8, test_years: 2}}
"""

# A sweep optimizes one playbook (runner/optimize/sweep_config.py): one small grid per daily playbook.
GRIDS = {"december_fade": ("  strategies.december_fade.params.rally_pct: [0.75, 1.5]\n"
                           "  strategies.december_fade.params.stop_atr: [1.0, 2.0]", 4),
         "january_snapback": ("  strategies.january_snapback.params.hold_sessions: [3, 8]\n"
                              "  strategies.january_snapback.params.stop_atr: [1.5, 2.5]", 4)}


@pytest.mark.parametrize("playbook", sorted(GRIDS))
def test_a_small_grid_gives_the_same_results_on_the_fast_and_the_plain_path(playbook, tmp_path, monkeypatch):
    parameters, count = GRIDS[playbook]
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(SWEEP.format(base=ROOT / "config" / "backtest.yaml", playbook=playbook, parameters=parameters))
    marker = tmp_path / "windowed-runs"

    def counting(*args, **kwargs):   # workers are forked: they report through a file
        out = run_windowed(*args, **kwargs)
        with marker.open("a") as handle:
            handle.write("0" if out is None else "1")
        return out

    with monkeypatch.context() as patch:
        patch.setattr(runs, "run_windowed", counting)
        fast = optimize(sweep, workers=1, out=tmp_path / "fast", progress=False, summary=False)
    with monkeypatch.context() as patch:
        patch.setattr(runs, "run_windowed", lambda *a, **k: None)
        plain = optimize(sweep, workers=1, out=tmp_path / "plain", progress=False, summary=False)
    fast_rows, plain_rows = (read_results(r.folder / "results.csv") for r in (fast, plain))
    assert len(fast_rows) == len(plain_rows) == count
    for a, b in zip(fast_rows, plain_rows):
        a.pop("seconds"), b.pop("seconds")
        assert a == b
    assert any(row["trades"] for row in fast_rows)
    taken = marker.read_text()
    assert len(taken) >= count and set(taken) == {"1"}   # every run of the fast sweep took the window path
