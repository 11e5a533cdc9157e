"""Golden minute-bar scenarios for vwap_close_fade, the expected trade written beside them.

Every scenario is one session of 1-minute bars stamped at their start, built so
that the numbers are exact:

* from the open to 14:57 (an hour and three minutes before the close), bars
  alternate between 99.50 and 100.50 (open = high = low = close) with 1,000
  shares each: the session VWAP is 100.00 and σ = 0.50;
* every later bar trades 0 shares at 100.00 unless written out; the bar ending
  at the reference time (15:00; an hour before an early close) sets the
  reference price, 100.00;
* so VWAP and σ stay 100.00 / 0.50, so VWAP and σ stay 100.00 / 0.50 and
  z = (close − 100) / 0.5;
* then the rows written in each test.

Broker: 100,000 cash, no commission, no slippage; size = min(0.25% risk over
the stop distance, 95% of equity).
"""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from runner.backtest.run import run_backtest
from runner.config import validate_config
from strategies import market_calendar as cal

NY = "America/New_York"


def session(day: dt.date, rows: dict[str, tuple]) -> pd.DataFrame:
    """One session's bars; ``rows``: "HH:MM" -> (open, high, low, close), volume 0."""
    close = cal.session_close(day).tz_localize(None)
    opening = pd.Timestamp(dt.datetime.combine(day, dt.time(9, 30)))
    stamps = pd.date_range(opening, close - pd.Timedelta(minutes=1), freq="1min")
    quiet_from = close - pd.Timedelta(minutes=62)     # an even number of alternating bars before it
    data = []
    for i, t in enumerate(stamps):
        if t < quiet_from:
            p = 99.5 if i % 2 == 0 else 100.5
            data.append((p, p, p, p, 1000.0))
        else:
            data.append((100.0, 100.0, 100.0, 100.0, 0.0))
    frame = pd.DataFrame(data, index=stamps, columns=["open", "high", "low", "close", "volume"])
    for hhmm, (o, h, l, c) in rows.items():
        frame.loc[pd.Timestamp(f"{day} {hhmm}")] = (o, h, l, c, 0.0)
    frame.index = frame.index.tz_localize(NY)
    frame.index.name = "time"
    return frame


def flat(first: str, last: str, price: float) -> dict[str, tuple]:
    """Bars from ``first`` to ``last`` (HH:MM, both included) at one price."""
    times = pd.date_range(f"2000-01-01 {first}", f"2000-01-01 {last}", freq="1min")
    return {t.strftime("%H:%M"): (price, price, price, price) for t in times}


def run(bars: pd.DataFrame, **params):
    raw = {"name": "golden", "broker": {"cash": 100_000, "slippage_pct": 0.0,
                                        "commission": {"per_share": 0.0, "minimum": 0.0}},
           "strategies": [{"name": "vwap_close_fade", "symbol": "SPY", "data": "sample:spy_1min_synthetic",
                           "params": params}]}
    cfg = validate_config(raw, "golden")
    fast = run_backtest(cfg, bars={"SPY": bars}, fast=True)
    plain = run_backtest(cfg, bars={"SPY": bars}, fast=False)
    assert fast.trades.equals(plain.trades)       # both engine paths, the same trades
    return fast


def only_trade(result) -> dict:
    assert len(result.trades) == 1, result.trades
    return result.trades.iloc[0].to_dict()


def test_session_vwap_of_the_background():
    from strategies.vwap_fade_fast import indicator_lines

    bars = session(dt.date(2019, 5, 30), {})
    lines = indicator_lines(bars)
    at_1541 = bars.index.get_loc(pd.Timestamp("2019-05-30 15:41", tz=NY))
    assert lines["vwap"][at_1541] == pytest.approx(100.0, abs=1e-9)
    assert lines["sigma"][at_1541] == pytest.approx(0.5, abs=1e-9)
    assert lines["ref_price"][at_1541] == 100.0


def test_short_at_1541_exits_at_the_close():
    # 2019-05-30: second-to-last session of May (month end). Cutoff 15:50: trigger bars 15:30-15:48.
    rows = {
        "15:41": (100.00, 101.20, 100.00, 101.10),   # z = +2.2, +1.10% since 15:00 -> sell at the next open
        **flat("15:42", "15:58", 101.00),            # entry at the 15:42 open 101.00; stop 101.2525 not reached
        "15:59": (101.00, 101.00, 100.80, 100.90),   # market-on-close fills at the close 100.90, at 16:00
    }
    trade = only_trade(run(session(dt.date(2019, 5, 30), rows)))
    # stop = min(VWAP + 3σ = 101.50, 101.10 × 1.0025 = 101.35275) -> risk 0.25275/share -> 989 shares by
    # risk, 95,000 / 101.10 = 939 by value
    assert trade["direction"] == "short"
    assert trade["entry_time"] == "2019-05-30T15:42:00-04:00" and trade["entry_price"] == 101.00
    assert trade["exit_time"] == "2019-05-30T16:00:00-04:00" and trade["exit_price"] == 100.90
    assert trade["size"] == 939 and trade["exit_reason"] == "close"
    assert trade["pnl"] == pytest.approx(939 * 0.10, abs=0.01)


def test_long_exits_at_the_vwap_limit():
    # 2019-06-28: quarter end.
    rows = {
        "15:35": (100.00, 100.00, 98.80, 98.90),     # z = -2.2, -1.10% since 15:00 -> buy at the next open
        **flat("15:36", "15:49", 99.00),             # entry at the 15:36 open 99.00, 0.10 above the decision
        "15:50": (99.50, 100.15, 99.40, 100.02),     # reaches the anchored limit 100.10: sold at 100.10
        **flat("15:51", "15:59", 100.00),
    }
    trade = only_trade(run(session(dt.date(2019, 6, 28), rows)))
    # stop = max(VWAP - 3σ = 98.50, 98.90 × 0.9975 = 98.65275) -> 95,000 / 98.90 = 960 shares; the stop
    # and the VWAP target (100.00) keep their distance from the decision close and move with the fill (+0.10)
    assert trade["direction"] == "long"
    assert trade["entry_time"] == "2019-06-28T15:36:00-04:00" and trade["entry_price"] == 99.00
    assert trade["exit_time"] == "2019-06-28T15:50:00-04:00" and trade["exit_price"] == pytest.approx(100.10)
    assert trade["size"] == 960 and trade["exit_reason"] == "vwap_target"


def test_stop_hit_before_the_close():
    rows = {
        "15:41": (100.00, 101.20, 100.00, 101.10),   # short as above; stop 101.35275 from the decision,
        **flat("15:42", "15:44", 101.00),            # filled 0.10 lower at 101.00: the stop is 101.25275
        "15:45": (101.00, 101.40, 101.00, 101.30),   # high 101.40 >= stop: bought back at 101.25275
        **flat("15:46", "15:59", 101.30),
    }
    trade = only_trade(run(session(dt.date(2019, 5, 30), rows)))
    assert trade["exit_time"] == "2019-05-30T15:45:00-04:00"
    assert trade["exit_price"] == pytest.approx(101.25275, abs=1e-6)
    assert trade["exit_reason"] == "stop"


def test_early_close_window_ends_one_minute_before_the_1250_cutoff():
    # 2019-11-29 closes at 13:00: window 12:30, cutoff 12:50, reference 12:00. The 12:48 bar ends at
    # 12:49, one minute before the cutoff: the last bar that may trigger.
    day = dt.date(2019, 11, 29)
    assert cal.moc_cutoff(day).strftime("%H:%M") == "12:50"
    rows = {
        "12:48": (100.00, 101.20, 100.00, 101.10),   # z = +2.2 -> sell at the 12:49 open
        **flat("12:49", "12:58", 100.70),
        "12:59": (100.70, 100.70, 100.50, 100.60),   # market-on-close: 100.60 at 13:00
    }
    trade = only_trade(run(session(day, rows)))
    assert trade["entry_time"] == "2019-11-29T12:49:00-05:00" and trade["entry_price"] == 100.70
    assert trade["exit_time"] == "2019-11-29T13:00:00-05:00" and trade["exit_price"] == 100.60
    assert trade["exit_reason"] == "close"


@pytest.mark.parametrize("day, spike", [
    (dt.date(2019, 11, 29), "12:49"),   # ends at the 12:50 cutoff: too late for a market-on-close
    (dt.date(2018, 11, 23), "12:44"),   # 2010-2019: cutoff 12:45 on an early close, last trigger bar 12:43
    (dt.date(2019, 5, 30), "15:49"),    # ends at the 15:50 cutoff
    (dt.date(2019, 5, 30), "15:29"),    # before the window
])
def test_no_trade_outside_the_window(day, spike):
    result = run(session(day, {spike: (100.00, 101.20, 100.00, 101.10)}))
    assert result.trades.empty


def test_no_trade_on_a_day_that_is_not_eligible():
    # 2019-05-15: mid-month Wednesday, not a month/quarter end, turn of the year or third Friday.
    rows = {"15:41": (100.00, 101.20, 100.00, 101.10), **flat("15:42", "15:59", 101.00)}
    assert run(session(dt.date(2019, 5, 15), rows)).trades.empty
    # ... unless every day is made eligible.
    assert len(run(session(dt.date(2019, 5, 15), rows), every_day=True).trades) == 1


def test_small_move_since_1500_does_not_trigger():
    # z = +2.2 needs close 101.10; a reference of 100.90 leaves a +0.198% move, under 0.3%.
    bars = session(dt.date(2019, 5, 30), {"15:41": (100.00, 101.20, 100.00, 101.10)})
    bars.loc[pd.Timestamp("2019-05-30 14:59", tz=NY), ["open", "high", "low", "close"]] = 100.90
    assert run(bars).trades.empty
    assert len(run(bars, min_move_pct=0.15).trades) == 1


def test_flat_by_the_close_and_one_trade_a_day():
    # Two triggers the same day: only the first trades; the position is closed at 16:00.
    rows = {
        "15:31": (100.00, 101.20, 100.00, 101.10),
        **flat("15:32", "15:39", 101.00),
        "15:40": (101.00, 101.00, 98.80, 98.90),     # would be a long, but the day has traded
        **flat("15:41", "15:59", 99.80),
    }
    result = run(session(dt.date(2019, 5, 30), rows), exit_at_vwap=False, stop_pct=5.0)
    trade = only_trade(result)
    assert trade["exit_time"] == "2019-05-30T16:00:00-04:00"
    equity = result.equity
    assert equity["value"].iloc[-1] == pytest.approx(equity["cash"].iloc[-1])
    assert np.isclose(trade["pnl"], (101.00 - 99.80) * trade["size"])


def test_stop_must_lie_beyond_the_trigger():
    from runner.errors import ConfigError

    raw = {"strategies": [{"name": "vwap_close_fade", "symbol": "SPY", "data": "sample:spy_1min_synthetic",
                           "params": {"k": 3.5}}]}
    with pytest.raises(ConfigError, match=r"strategies\[0\]\.params: stop_z \(3\) must be above k \(3\.5\)"):
        validate_config(raw, "golden")
