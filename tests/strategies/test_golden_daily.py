"""Golden scenarios: hand-written December/January bars, the expected trade written beside them.

Background bars: 2018 from 100 (Jan 2 open = the year-to-date base) rising to 120,
each with a true range of 10, so ATR(14) = 10 and every stop/target is exact.
Calendar: Dec OPEX 2018-12-21; Dec 24 closes at 13:00; Dec 25 closed; last
session Dec 31; January 2019 sessions 1-5: Jan 2, 3, 4, 7, 8.
"""
import datetime as dt

import pytest

from runner.backtest.run import run_backtest
from daily_scenarios import bar, config, frame, quiet_ramp

D = dt.date


def december_2018(rows: dict) -> dict:
    base = quiet_ramp(D(2018, 1, 2), D(2018, 12, 21), 100.0, 120.0)   # OPEX close 120
    base.update(rows)
    return base


def run(strategy, params, rows, **broker):
    cfg = config(strategy, params, **broker)
    return run_backtest(cfg, bars={"SPX": frame(rows)})


FADE = {"rally_pct": 1.5, "ytd_min_pct": 15.0, "stop_atr": 1.5, "target_retrace_pct": 50.0}


def test_fade_time_exit_at_last_december_close():
    rows = december_2018({
        #              open   close   high   low
        D(2018, 12, 24): bar(120.0, 121.0),
        D(2018, 12, 26): bar(121.0, 122.0),            # rally +1.67% >= 1.5%, YTD +22% -> sell next open
        D(2018, 12, 27): bar(122.0, 123.0, 124.0, 121.5),  # entry 122.00; target 121.00 not reached
        D(2018, 12, 28): bar(123.0, 123.0, 124.0, 122.0),  # time exit (MOC) sent today
        D(2018, 12, 31): bar(123.0, 123.5, 124.0, 122.0),  # MOC fills at the close 123.50
    })
    trades = run("december_fade", FADE, rows).trades
    assert len(trades) == 1
    t = trades.iloc[0]
    assert (t.direction, t.exit_reason) == ("short", "time_exit")
    assert t.entry_time == "2018-12-27T09:30:00-05:00" and t.entry_price == pytest.approx(122.0)
    assert t.exit_time == "2018-12-31T16:00:00-05:00" and t.exit_price == pytest.approx(123.5)
    # size: 0.5% of 100,000 at risk over a 15-point stop (1.5 x ATR 10) = 33 units
    assert t["size"] == 33
    assert t.commission == pytest.approx(2.0)        # 2 x the 1.00 minimum
    assert t.pnl == pytest.approx((122.0 - 123.5) * 33 - 2.0)


def test_fade_stop_hit():
    rows = december_2018({
        D(2018, 12, 24): bar(120.0, 121.0),
        D(2018, 12, 26): bar(121.0, 122.0),                # signal; stop 122 + 15 = 137
        D(2018, 12, 27): bar(122.0, 136.0, 138.0, 121.5),  # high 138 > 137: stopped at 137
        D(2018, 12, 28): bar(136.0, 130.0),
        D(2018, 12, 31): bar(130.0, 131.0),
    })
    trades = run("december_fade", FADE, rows).trades
    assert len(trades) == 1
    t = trades.iloc[0]
    assert t.exit_reason == "stop"
    assert t.exit_price == pytest.approx(137.0)
    assert t.exit_time.startswith("2018-12-27")


def test_fade_target_retracement():
    rows = december_2018({
        D(2018, 12, 24): bar(120.0, 121.0),
        D(2018, 12, 26): bar(121.0, 122.0),                # target 122 - 50% x (122 - 120) = 121
        D(2018, 12, 27): bar(122.0, 122.5, 124.0, 121.5),
        D(2018, 12, 28): bar(122.5, 121.2, 123.0, 120.8),  # low 120.8 <= 121: target fills at 121
        D(2018, 12, 31): bar(121.2, 121.0),
    })
    t = run("december_fade", FADE, rows).trades.iloc[0]
    assert (t.exit_reason, t.exit_price) == ("target", pytest.approx(121.0))
    assert t.exit_time.startswith("2018-12-28")


def test_fade_blocked_when_year_to_date_too_low():
    # Same rally, but the year started at 115: YTD +6% < 15%, so no trade.
    rows = quiet_ramp(D(2018, 1, 2), D(2018, 12, 21), 115.0, 120.0)
    rows.update({
        D(2018, 12, 24): bar(120.0, 121.0),
        D(2018, 12, 26): bar(121.0, 122.0),
        D(2018, 12, 27): bar(122.0, 123.0),
        D(2018, 12, 28): bar(123.0, 123.0),
        D(2018, 12, 31): bar(123.0, 123.5),
    })
    result = run("december_fade", FADE, rows)
    assert result.trades.empty
    assert not (result.orders["reason"] == "entry").any()


SNAPBACK = {"five_day_return_pct": -2.0, "opex_return_pct": -3.0, "hold_sessions": 5,
            "stop_atr": 2.0, "target": "retracement", "entry": "last_close"}


def test_snapback_across_the_holidays_to_january_session_5():
    rows = december_2018({
        D(2018, 12, 24): bar(120.0, 118.0),     # 13:00 close
        D(2018, 12, 26): bar(118.0, 117.0),     # (Dec 25 closed)
        D(2018, 12, 27): bar(117.0, 116.5),
        D(2018, 12, 28): bar(116.5, 116.0),     # since OPEX -3.33% <= -3% -> MOC buy for Dec 31
        D(2018, 12, 31): bar(116.0, 116.5),     # entry at the close 116.50
        # stop 116 - 2 x 10 = 96, target the OPEX close 120: neither is touched below
        D(2019, 1, 2): bar(116.5, 117.0, 118.0, 115.5),
        D(2019, 1, 3): bar(117.0, 115.0, 117.5, 114.0),
        D(2019, 1, 4): bar(115.0, 117.5, 118.0, 114.5),
        D(2019, 1, 7): bar(117.5, 118.0, 119.0, 117.0),   # time exit (MOC) sent: session 4
        D(2019, 1, 8): bar(118.0, 118.5, 119.5, 117.5),   # January session 5: exit at the close 118.50
        D(2019, 1, 9): bar(118.5, 119.0, 119.5, 118.0),
    })
    trades = run("january_snapback", SNAPBACK, rows).trades
    assert len(trades) == 1
    t = trades.iloc[0]
    assert t.direction == "long"
    assert t.entry_time == "2018-12-31T16:00:00-05:00" and t.entry_price == pytest.approx(116.5)
    assert t.exit_time == "2019-01-08T16:00:00-05:00" and t.exit_price == pytest.approx(118.5)
    assert t.exit_reason == "time_exit"
    assert t["size"] == 25     # 500 at risk / (2 x ATR 10)


def test_snapback_no_signal_in_a_calm_december():
    rows = december_2018({
        D(2018, 12, 24): bar(120.0, 119.5),
        D(2018, 12, 26): bar(119.5, 119.8),
        D(2018, 12, 27): bar(119.8, 119.0),
        D(2018, 12, 28): bar(119.0, 119.2),
        D(2018, 12, 31): bar(119.2, 119.4),
        D(2019, 1, 2): bar(119.4, 119.6),
    })
    assert run("january_snapback", SNAPBACK, rows).trades.empty


def test_decision_never_fills_at_the_decision_close():
    """No look-ahead: every entry fills on a later session than the bar that triggered it."""
    rows = december_2018({
        D(2018, 12, 24): bar(120.0, 121.0),
        D(2018, 12, 26): bar(121.0, 122.0),
        D(2018, 12, 27): bar(122.0, 123.0, 124.0, 121.5),
        D(2018, 12, 28): bar(123.0, 123.0, 124.0, 122.0),
        D(2018, 12, 31): bar(123.0, 123.5, 124.0, 122.0),
    })
    orders = run("december_fade", FADE, rows).orders
    entry = orders[(orders.reason == "entry")]
    submitted = entry[entry.status == "Submitted"].time.iloc[0]
    filled = entry[entry.status == "Completed"].time.iloc[0]
    assert submitted == "2018-12-26T16:00:00-05:00"
    assert filled > submitted


def test_fade_trailing_stop_follows_the_close_after_a_one_atr_gain():
    params = {**FADE, "target_retrace_pct": None, "trail_atr": 1.0, "trail_after_atr": 1.0}
    rows = december_2018({
        D(2018, 12, 24): bar(120.0, 121.0),
        D(2018, 12, 26): bar(121.0, 122.0),                # signal; stop 137
        # entry 122; true range 12 -> ATR 10 + (12 - 10) / 14 = 10.142857; gain 11 >= 1 ATR:
        # the stop moves to the close + 1 ATR = 121.142857
        D(2018, 12, 27): bar(122.0, 111.0, 122.5, 110.5),
        D(2018, 12, 28): bar(111.0, 121.5, 122.0, 110.8),  # high 122 reaches the trailing stop
        D(2018, 12, 31): bar(121.5, 121.0),
    })
    t = run("december_fade", params, rows).trades.iloc[0]
    assert t.exit_reason == "trailing_stop"
    assert t.exit_price == pytest.approx(111.0 + 10.0 + 2.0 / 14.0)
    assert t.exit_time.startswith("2018-12-28")
