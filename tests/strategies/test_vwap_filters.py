"""Filters on the intraday playbook (vwap_close_fade): the legs are daily feeds declared under feeds:
(the instrument's own daily bars too), read as of the previous session's close; golden trades on both
engine paths, the value written with the trade, no look-ahead, clear config errors, --set."""
import datetime as dt

import pandas as pd
import pytest

from runner.backtest.run import run_backtest
from runner.config import load_config, validate_config
from runner.errors import ConfigError, DataError
from strategies import market_calendar as cal
from test_vwap_golden import flat, session

DAY = dt.date(2019, 5, 30)          # the golden short at 15:41 (test_vwap_golden)
SHORT_AT_1541 = {"15:41": (100.00, 101.20, 100.00, 101.10), **flat("15:42", "15:58", 101.00),
                 "15:59": (101.00, 101.00, 100.80, 100.90)}
NY = "America/New_York"


def daily(closes: dict[dt.date, float], volume: float = 1e6) -> pd.DataFrame:
    days = sorted(closes)
    index = pd.DatetimeIndex([pd.Timestamp(d) for d in days]).tz_localize(NY)
    values = [closes[d] for d in days]
    frame = pd.DataFrame({"open": values, "high": values, "low": values, "close": values, "volume": volume},
                         index=index)
    frame.index.name = "time"
    return frame


def daily_legs(iwm_today: float = 102.0) -> dict[str, pd.DataFrame]:
    """SPY flat at 100 for 30 sessions to DAY; IWM at 100, then 102 from 10 sessions before DAY's previous
    session on. The 10-session relative strength at the previous session's close (May 29) is +2.00%:
    IWM 102/100 against SPY 100/100. On DAY itself IWM closes at ``iwm_today`` (the future, for the
    intraday decision)."""
    days = cal.sessions_between(DAY - dt.timedelta(days=50), DAY)[-30:]
    previous = days.index(DAY) - 1
    spy = daily({d: 100.0 for d in days})
    iwm = {d: (102.0 if i > previous - 10 else 100.0) for i, d in enumerate(days)}
    iwm[DAY] = iwm_today
    return {"SPY.SPY": spy, "SPY.IWM": daily(iwm)}


def fade_config(filters: list[dict], feeds: dict | None = None):
    raw = {"name": "vwap-filters", "broker": {"cash": 100_000, "slippage_pct": 0.0,
                                              "commission": {"per_share": 0.0, "minimum": 0.0}},
           "strategies": [{"name": "vwap_close_fade", "symbol": "SPY", "data": "sample:spy_1min_synthetic",
                           "feeds": feeds if feeds is not None else {"SPY": "sample:sp500", "IWM": "sample:nasdaq"},
                           "params": {"filters": filters}}]}
    return validate_config(raw, "test.yaml")


def run(filters, iwm_today: float = 102.0):
    bars = {"SPY": session(DAY, SHORT_AT_1541), **daily_legs(iwm_today)}
    cfg = fade_config(filters)
    fast = run_backtest(cfg, bars=bars, fast=True)
    plain = run_backtest(cfg, bars=bars, fast=False)
    assert fast.trades.equals(plain.trades)                       # both engine paths (order ids count on)
    assert fast.orders.drop(columns="order_id").equals(plain.orders.drop(columns="order_id"))
    return fast


ROTATION = {"signal": "rotation", "long": "IWM", "short": "SPY", "sessions": 10}


def test_a_passing_filter_keeps_the_golden_trade_and_records_its_value_as_of_the_previous_close():
    trades = run([{**ROTATION, "min_pct": 1.0}]).trades
    assert len(trades) == 1
    trade = trades.iloc[0]
    assert trade["entry_price"] == 101.00 and trade["exit_price"] == 100.90 and trade["size"] == 939
    assert trade.filters == "as of 2019-05-29: rotation IWM/SPY 10s +2.00% (>= 1) pass"


def test_a_failing_filter_holds_the_entry_back_for_the_session():
    result = run([{**ROTATION, "min_pct": 2.5}])
    assert result.trades.empty and not (result.orders["reason"] == "entry").any()


def test_the_session_being_traded_is_not_read():
    # IWM closes 50% higher on DAY: the decision at 15:41 must not see it (max 3% passes on +2.00%)
    trades = run([{**ROTATION, "max_pct": 3.0}], iwm_today=153.0).trades
    assert trades.iloc[0].filters == "as of 2019-05-29: rotation IWM/SPY 10s +2.00% (<= 3) pass"


def test_drift_and_volume_filters_on_daily_legs():
    # IWM (as the equity leg) +2% in May against a flat SPY (as the bonds): 0.6*1.02 / (0.6*1.02 + 0.4)
    # = 0.604743, +0.47 points; flat volume: May 29 against April's same session, ratio 1.00
    drift = {"signal": "drift", "equity": "IWM", "bonds": "SPY", "period": "month", "min_pts": 0.4}
    volume = {"signal": "volume_spike", "instruments": ["SPY"], "lookback": 1, "min_samples": 1, "min_ratio": 0.9}
    trades = run([drift, volume]).trades
    assert trades.iloc[0].filters == ("as of 2019-05-29: drift month IWM/SPY 60% +0.47pts (>= 0.4) pass; "
                                      "volume_spike month SPY 1.00x (>= 0.9x (all)) pass")


def test_the_instrument_as_a_leg_must_be_a_declared_daily_feed():
    with pytest.raises(ConfigError) as err:
        fade_config([{**ROTATION, "min_pct": 1.0}], feeds={"IWM": "sample:nasdaq"})
    assert ("params.filters[0].short: vwap_close_fade decides on intraday bars and its filters read daily bars; "
            "declare SPY's daily bars as a feed, e.g. feeds: {SPY: cache:SPY}") in str(err.value)


def test_an_intraday_file_as_a_filter_feed_is_one_clear_error(tmp_path):
    from runner.data.load import load_run_bars

    cfg = fade_config([{**ROTATION, "min_pct": 1.0}], feeds={"SPY": "sample:spy_1min_synthetic",
                                                             "IWM": "sample:nasdaq"})
    with pytest.raises(DataError) as err:
        load_run_bars(cfg)
    assert "vwap_close_fade feeds.SPY (sample:spy_1min_synthetic): intraday bars" in str(err.value)


def test_the_sample_run_reads_daily_legs_with_their_history(tmp_path):
    from runner.data.load import load_run_bars

    cfg = fade_config([{**ROTATION, "min_pct": 1.0}])
    bars = load_run_bars(cfg)
    minutes, iwm = bars["SPY"], bars["SPY.IWM"]
    assert iwm.index[0] < minutes.index[0] and iwm.index[-1].date() <= minutes.index[-1].date()
    assert len(iwm) == len(bars["SPY.SPY"]) and len(iwm) > 4000     # daily bars since 1999, not minutes


def test_set_varies_the_intraday_filter_threshold(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("strategies:\n  - name: vwap_close_fade\n    symbol: SPY\n    data: sample:spy_1min_synthetic\n"
                    "    feeds: {SPY: sample:sp500, IWM: sample:nasdaq}\n"
                    "    params:\n      filters: [{signal: rotation, long: IWM, short: SPY, min_pct: 1.0}]\n")
    cfg = load_config(path, ["strategies.vwap_close_fade.params.filters.0.min_pct=2.5"])
    assert cfg.strategies[0].typed_params().filters[0].min_pct == 2.5


def test_a_sweep_file_varies_the_intraday_filter_threshold(tmp_path):
    from pathlib import Path

    from runner.optimize.sweep import optimize

    shipped = Path(__file__).resolve().parents[2] / "config" / "vwap_filters.yaml"
    (tmp_path / "base.yaml").write_text(shipped.read_text().replace("folder: logs", f"folder: {tmp_path / 'logs'}")
                                        + "start: 2018-01-01\nend: 2018-06-30\n")
    (tmp_path / "sweep.yaml").write_text(
        "name: vwap-filter-sweep\nbase: base.yaml\nparameters:\n"
        "  strategies.vwap_close_fade.params.filters.0.max_pct: [-1.0, 100.0]\n"
        "search: {method: grid}\nobjective: {metric: total_return_pct, direction: maximize}\n")
    optimize(tmp_path / "sweep.yaml", workers=1, out=tmp_path / "run", progress=False)
    rows = pd.read_csv(tmp_path / "run" / "results.csv")
    trades = dict(zip(rows.filter(like="max_pct").iloc[:, 0], rows["trades"]))
    # the same runs as flowbot backtest gives them (checked here on the first half of 2018)
    for max_pct in (-1.0, 100.0):
        cfg = load_config(tmp_path / "base.yaml", [f"strategies.0.params.filters.0.max_pct={max_pct}"])
        assert trades[max_pct] == len(run_backtest(cfg).trades)
    assert trades[-1.0] < trades[100.0]


def test_a_leg_whose_last_bar_is_older_is_named_with_its_date():
    bars = {"SPY": session(DAY, SHORT_AT_1541), **daily_legs()}
    bars["SPY.IWM"] = bars["SPY.IWM"].drop(pd.Timestamp("2019-05-29", tz=NY))   # IWM misses May 29
    trades = run_backtest(fade_config([{**ROTATION, "min_pct": -100.0}]), bars=bars).trades
    assert trades.iloc[0]["filters"].startswith("as of 2019-05-29 (IWM 2019-05-28): rotation IWM/SPY 10s")
