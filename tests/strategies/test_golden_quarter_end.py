"""Golden scenarios for the quarter-end fade: hand-written March 2018 bars, the expected trade beside them.

Background: a quiet ramp from 100 (Dec 1, 2017) to 120 (Mar 16, 2018, the March
OPEX), every true range 10, so ATR(14) = 10. Calendar: first window session
Mar 20 (OPEX + 2); Mar 30 2018 is Good Friday (closed), so the quarter's last
session is Mar 29 and the last entry session Mar 28.
"""
import datetime as dt

import pandas as pd
import pytest

from daily_scenarios import bar, config, frame, quiet_ramp
from runner.backtest.run import run_backtest
from runner.config import validate_config
from runner.errors import ConfigError
from strategies.quarter_end_fade import QuarterEndFade, QuarterEndFadeParams, quarter_window

D = dt.date
FADE = {"rally_pct": 1.5, "qtd_min_pct": 5.0, "stop_atr": 1.5, "target_retrace_pct": 50.0}

MARCH_END = {
    #              open   close   high   low
    D(2018, 3, 19): bar(120.0, 120.5),
    D(2018, 3, 20): bar(120.5, 122.0),                 # rally +1.67% over the OPEX close 120: sell next open
    D(2018, 3, 21): bar(122.0, 123.0, 124.0, 121.5),   # entry 122.00; target 121.00 not reached
    D(2018, 3, 22): bar(123.0, 123.5, 124.5, 122.5),
    D(2018, 3, 23): bar(123.5, 123.0, 124.0, 122.0),
    D(2018, 3, 26): bar(123.0, 123.2, 124.0, 122.2),
    D(2018, 3, 27): bar(123.2, 123.4, 124.0, 122.5),
    D(2018, 3, 28): bar(123.4, 123.6, 124.2, 122.8),   # time exit (MOC) sent today
    D(2018, 3, 29): bar(123.6, 124.0, 124.5, 123.0),   # the quarter's last close: exit 124.00
}


def march(start: float = 100.0, rows: dict = MARCH_END) -> dict:
    base = quiet_ramp(D(2017, 12, 1), D(2018, 3, 16), start, 120.0)
    base.update(rows)
    return base


def run(params, rows, bars_extra=None):
    cfg = config("quarter_end_fade", params)
    return run_backtest(cfg, bars={"SPX": frame(rows), **(bars_extra or {})})


def test_window_dates():
    assert quarter_window(2018, 3) == (D(2018, 3, 16), D(2018, 3, 20), D(2018, 3, 28), D(2018, 3, 29))
    # June 2018: OPEX Jun 15; the quarter ends Friday Jun 29
    assert quarter_window(2018, 6) == (D(2018, 6, 15), D(2018, 6, 19), D(2018, 6, 28), D(2018, 6, 29))


def test_time_exit_at_the_quarters_last_close():
    trades = run(FADE, march()).trades
    assert len(trades) == 1
    t = trades.iloc[0]
    assert (t.direction, t.exit_reason) == ("short", "time_exit")
    assert t.entry_time == "2018-03-21T09:30:00-04:00" and t.entry_price == pytest.approx(122.0)
    assert t.exit_time == "2018-03-29T16:00:00-04:00" and t.exit_price == pytest.approx(124.0)
    assert t["size"] == 33                           # 500 at risk over 1.5 x ATR 10
    assert t.pnl == pytest.approx((122.0 - 124.0) * 33 - 2.0)


def test_target_retracement():
    rows = dict(MARCH_END)
    rows[D(2018, 3, 22)] = bar(123.0, 121.5, 123.5, 120.9)   # low 120.9 <= target 121
    t = run(FADE, march(rows=rows)).trades.iloc[0]
    assert (t.exit_reason, t.exit_price) == ("target", pytest.approx(121.0))
    assert t.exit_time.startswith("2018-03-22")


def test_blocked_when_the_quarter_to_date_return_is_too_low():
    # The quarter started near 118: up about 2% by the signal, below 5%.
    result = run(FADE, march(start=117.0))
    assert result.trades.empty
    assert not (result.orders["reason"] == "entry").any()


def test_a_quarter_left_out_is_not_traded():
    assert run({**FADE, "quarters": [6, 9, 12]}, march()).trades.empty


def test_drift_over_the_quarter_with_a_bonds_feed():
    rows = march()
    bonds = frame(quiet_ramp(D(2017, 12, 1), D(2018, 3, 29), 50.0, 50.0))    # flat bonds
    base = rows[D(2017, 12, 29)][3]   # the quarter's base: the last 2017 close
    drift = (0.6 * 122 / base / (0.6 * 122 / base + 0.4) - 0.6) * 100    # on Mar 20
    cfg = validate_config({"name": "q", "broker": {"cash": 100_000, "slippage_pct": 0.0},
                           "strategies": [{"name": "quarter_end_fade", "symbol": "SPX", "data": "sample:sp500",
                                           "feeds": {"bonds": "sample:aaa_bond_proxy"},
                                           "params": {**FADE, "drift_min_pct": round(drift - 0.01, 2)}}]}, "q")
    trades = run_backtest(cfg, bars={"SPX": frame(rows), "SPX.bonds": bonds}).trades
    assert trades.entry_time.tolist() == ["2018-03-21T09:30:00-04:00"]
    # just above Mar 20's drift: that day waits; Mar 21 (close 123, a larger drift) sells Mar 22's open
    cfg.strategies[0].params["drift_min_pct"] = round(drift + 0.01, 2)
    trades = run_backtest(cfg, bars={"SPX": frame(rows), "SPX.bonds": bonds}).trades
    assert trades.entry_time.tolist() == ["2018-03-22T09:30:00-04:00"]


def test_baseline_has_a_row_per_quarter_window_from_the_earliest_fill():
    """Issue 11 point 4: each window is measured over the span the playbook can hold: from the open of
    the session after OPEX+2 (its earliest fill) to the quarter's last close, not from the close before
    OPEX+2. The step at OPEX+2 (Mar 20, Jun 19) is a move it can never hold."""
    rows = {}
    for day in pd.bdate_range("2018-01-02", "2018-07-31"):
        d = day.date()
        c = 100.0 if d < D(2018, 3, 20) else 110.0 if d < D(2018, 6, 19) else 121.0
        rows[d] = bar(c, c)
    rows[D(2018, 3, 21)] = bar(108.0, 110.0)        # the earliest fill of the March window: 108 open
    rows[D(2018, 3, 29)] = bar(110.0, 113.4)        # the March window's last close
    bars = frame(rows)
    windows = QuarterEndFade.holding_windows(QuarterEndFadeParams(), bars)
    march, june = windows.iloc[0], windows.iloc[1]
    assert windows["window"].tolist() == [201803, 201806]     # Sep and Dec 2018 are not covered
    assert (march.first_session, march.entry_at, march.last_session) == (D(2018, 3, 21), "open", D(2018, 3, 29))
    assert march.hold == pytest.approx(113.4 / 108.0 - 1) and march.unconditional == pytest.approx(1 - 113.4 / 108.0)
    assert (june.first_session, june.last_session) == (D(2018, 6, 20), D(2018, 6, 29))
    assert june.hold == pytest.approx(0.0)          # the Jun 19 step to 121 happened before it could hold
    with_close = QuarterEndFade.holding_windows(QuarterEndFadeParams(entry="next_close"), bars)
    assert with_close.iloc[0].entry_at == "close" and with_close.iloc[0].hold == pytest.approx(113.4 / 110.0 - 1)


def test_quarters_must_be_quarter_end_months():
    with pytest.raises(ConfigError) as err:
        config("quarter_end_fade", {"quarters": [3, 4]})
    assert "strategies[0].params.quarters: expected quarter-end months from 3, 6, 9, 12 (got [3, 4])" in str(err.value)
