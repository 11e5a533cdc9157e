"""The cost model does what the README says, and exits are anchored to the entry's actual fill."""
import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "strategies"))
from daily_scenarios import bar, config, frame, quiet_ramp  # noqa: E402

from runner.backtest.run import run_backtest  # noqa: E402

D = dt.date
FADE = {"rally_pct": 1.5, "ytd_min_pct": 15.0, "stop_atr": 1.5, "target_retrace_pct": 50.0}


def december(rows):
    base = quiet_ramp(D(2018, 1, 2), D(2018, 12, 21), 100.0, 120.0)   # OPEX close 120, ATR 10
    base.update(rows)
    return base


def run(rows, **broker):
    return run_backtest(config("december_fade", FADE, **broker), bars={"SPX": frame(rows)})


def test_market_on_close_fill_pays_slippage():
    rows = december({
        D(2018, 12, 24): bar(120.0, 121.0),
        D(2018, 12, 26): bar(121.0, 122.0),                 # signal: sell at the next open
        D(2018, 12, 27): bar(122.0, 123.0, 124.0, 121.5),   # entry 122 (slipped down)
        D(2018, 12, 28): bar(123.0, 123.0, 124.0, 122.0),
        D(2018, 12, 31): bar(123.0, 123.5, 124.0, 122.0),   # time exit: buy MOC at 123.5, slipped up
    })
    t = run(rows, slippage_pct=0.1).trades.iloc[0]
    assert t.exit_reason == "time_exit"
    assert t.entry_price == pytest.approx(122.0 * 0.999)
    assert t.exit_price == pytest.approx(123.5 * 1.001)


def test_slippage_is_not_capped_at_the_bar_range():
    rows = december({
        D(2018, 12, 24): bar(120.0, 121.0),
        D(2018, 12, 26): bar(121.0, 122.0),
        D(2018, 12, 27): bar(122.0, 123.0, 124.0, 122.0),   # open = low: a sell still slips below it
        D(2018, 12, 28): bar(123.0, 123.0, 124.0, 122.5),
        D(2018, 12, 31): bar(123.0, 123.5, 124.0, 122.5),
    })
    t = run(rows, slippage_pct=0.1).trades.iloc[0]
    assert t.entry_price == pytest.approx(122.0 * 0.999)


def test_target_is_anchored_to_the_fill_not_the_decision_close():
    rows = december({
        D(2018, 12, 24): bar(120.0, 121.0),
        D(2018, 12, 26): bar(121.0, 122.0),                 # decided at 122: target 1 below, stop 15 above
        D(2018, 12, 27): bar(119.0, 119.5, 120.0, 118.5),   # gap down: short at 119; the decision's target
                                                            # (121) would sit above the entry
        D(2018, 12, 28): bar(119.0, 118.0, 119.5, 117.5),   # the anchored target 118 is reached
        D(2018, 12, 31): bar(118.0, 118.0, 119.0, 117.5),
    })
    trades = run(rows).trades
    assert len(trades) == 1
    t = trades.iloc[0]
    assert (t.exit_reason, t.entry_price, t.exit_price) == ("target", pytest.approx(119.0), pytest.approx(118.0))
    assert t.exit_time.startswith("2018-12-28")
    assert t.pnl > 0


def test_stop_is_anchored_to_the_fill():
    rows = december({
        D(2018, 12, 24): bar(120.0, 121.0),
        D(2018, 12, 26): bar(121.0, 122.0),                 # decided at 122: stop 137
        D(2018, 12, 27): bar(126.0, 128.0, 130.0, 125.5),   # gap up: short at 126, anchored stop 141
        D(2018, 12, 28): bar(128.0, 139.0, 139.5, 127.5),   # 137 reached, 141 not
        D(2018, 12, 31): bar(139.0, 140.0, 140.5, 138.0),
    })
    t = run(rows).trades.iloc[0]
    assert t.exit_reason == "time_exit"


def test_next_close_entry_exits_follow_the_fill():
    """Issue 11 point 6 with ``entry: next_close``: the exit group goes out after the close fill, at the
    decision's distances from the fill (a target left at the decision's 121 would sit above a 119 short
    entry and exit "at target" at a loss)."""
    rows = december({
        D(2018, 12, 24): bar(120.0, 121.0),
        D(2018, 12, 26): bar(121.0, 122.0),                 # decided at 122: target 1 below, stop 15 above
        D(2018, 12, 27): bar(121.0, 119.0, 121.5, 118.8),   # short at the close, 119
        D(2018, 12, 28): bar(119.0, 118.5, 119.5, 117.8),   # the anchored target 118 is reached
        D(2018, 12, 31): bar(118.5, 118.5, 119.0, 118.0),
    })
    cfg = config("december_fade", {**FADE, "entry": "next_close"})
    t = run_backtest(cfg, bars={"SPX": frame(rows)}).trades.iloc[0]
    assert (t.entry_price, t.exit_reason, t.exit_price) == (pytest.approx(119.0), "target", pytest.approx(118.0))
    assert t.pnl > 0
