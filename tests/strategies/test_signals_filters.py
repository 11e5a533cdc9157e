"""Filters from YAML on a daily playbook: golden trades, the value written with the trade,
clear config errors, --set and sweep files varying thresholds."""
import datetime as dt
import textwrap

import pandas as pd
import pytest

from daily_scenarios import bar, frame, quiet_ramp
from runner.backtest.run import run_backtest
from runner.config import load_config, validate_config
from runner.errors import ConfigError

D = dt.date
FADE = {"rally_pct": 1.5, "ytd_min_pct": 15.0, "stop_atr": 1.5, "target_retrace_pct": 50.0}


def december_rows() -> dict:
    rows = quiet_ramp(D(2018, 1, 2), D(2018, 12, 21), 100.0, 120.0)
    rows.update({
        D(2018, 12, 24): bar(120.0, 121.0),
        D(2018, 12, 26): bar(121.0, 122.0),                 # the fade's signal (see test_golden_daily)
        D(2018, 12, 27): bar(122.0, 123.0, 124.0, 121.5),
        D(2018, 12, 28): bar(123.0, 123.0, 124.0, 122.0),
        D(2018, 12, 31): bar(123.0, 123.5, 124.0, 122.0),
    })
    return rows


def small_caps(rows: dict) -> pd.DataFrame:
    """IWM: SPX's bars, 2% higher from Dec 12 on. Ten sessions before Dec 26 is Dec 11, so the
    10-session relative strength of IWM over SPX on Dec 26 is exactly +2.00%."""
    iwm = frame(rows)
    later = iwm.index.tz_localize(None) >= pd.Timestamp("2018-12-12")
    for column in ("open", "high", "low", "close"):
        iwm.loc[later, column] *= 1.02
    return iwm


def fade_config(filters: list[dict], feeds: dict | None = None):
    raw = {"name": "filters", "broker": {"cash": 100_000, "slippage_pct": 0.0},
           "strategies": [{"name": "december_fade", "symbol": "SPX", "data": "sample:sp500",
                           "feeds": feeds if feeds is not None else {"IWM": "sample:nasdaq"},
                           "params": {**FADE, "filters": filters}}]}
    return validate_config(raw, "test.yaml")


def run_with(filters):
    rows = december_rows()
    return run_backtest(fade_config(filters), bars={"SPX": frame(rows), "SPX.IWM": small_caps(rows)})


def test_a_passing_rotation_filter_keeps_the_trade_and_records_its_value():
    trades = run_with([{"signal": "rotation", "long": "IWM", "short": "SPX", "sessions": 10, "min_pct": 1.0}]).trades
    assert len(trades) == 1
    assert trades.iloc[0].entry_price == pytest.approx(122.0)
    assert trades.iloc[0].filters == "rotation IWM/SPX 10s +2.00% (>= 1) pass"


def test_a_failing_rotation_filter_holds_the_entry_back():
    result = run_with([{"signal": "rotation", "long": "IWM", "short": "SPX", "sessions": 10, "min_pct": 2.5}])
    assert result.trades.empty
    assert not (result.orders["reason"] == "entry").any()


def test_max_pct_and_several_filters_all_must_pass():
    passing = {"signal": "rotation", "long": "IWM", "short": "SPX", "sessions": 10, "max_pct": 3.0}
    # the quiet ramp's volume is flat: every month-end ratio is 1.0, not a spike
    no_spike = {"signal": "volume_spike", "instruments": ["SPX", "IWM"], "min_ratio": 1.3}
    assert len(run_with([passing]).trades) == 1
    assert run_with([passing, no_spike]).trades.empty


def test_drift_filter_over_the_quarter_with_the_bonds_feed():
    rows = december_rows()
    bonds = frame(quiet_ramp(D(2018, 1, 2), D(2018, 12, 31), 50.0, 50.0))   # flat bonds: drift from equities alone
    cfg = validate_config({"name": "drift", "broker": {"cash": 100_000, "slippage_pct": 0.0},
                           "strategies": [{"name": "december_fade", "symbol": "SPX", "data": "sample:sp500",
                                           "feeds": {"bonds": "sample:aaa_bond_proxy"},
                                           "params": {**FADE, "filters": [{"signal": "drift", "period": "quarter",
                                                                           "min_pts": 1.0}]}}]}, "t")
    trades = run_backtest(cfg, bars={"SPX": frame(rows), "SPX.bonds": bonds}).trades
    # Q4 base: the Sep 28 close of the ramp; Dec 26 close 122
    base = rows[D(2018, 9, 28)][3]
    expected = (0.6 * 122 / base / (0.6 * 122 / base + 0.4) - 0.6) * 100
    assert len(trades) == 1
    assert trades.iloc[0].filters == f"drift quarter SPX/bonds 60% {expected:+.2f}pts (>= 1) pass"


def test_set_override_varies_a_filter_threshold(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(textwrap.dedent("""\
        strategies:
          - name: december_fade
            symbol: SPX
            data: sample:sp500
            feeds: {IWM: sample:nasdaq}
            params:
              filters: [{signal: rotation, long: IWM, short: SPX, min_pct: 1.0}]
        """))
    cfg = load_config(path, ["strategies.december_fade.params.filters.0.min_pct=2.5"])
    assert cfg.strategies[0].typed_params().filters[0].min_pct == 2.5
    with pytest.raises(ConfigError) as err:
        load_config(path, ["strategies.0.params.filters.0.sessions=0"])
    assert str(err.value).endswith("strategies[0].params.filters[0].sessions: must be >= 1 (got 0)")


@pytest.mark.parametrize("filters, feeds, message", [
    ([{"signal": "rotation", "long": "QQQ", "short": "SPX", "min_pct": 1}], {},
     "strategies[0]: params.filters[0].long: 'QQQ' is neither the instrument (SPX) nor a feed of this playbook; "
     "declare it, e.g. feeds: {QQQ: cache:QQQ}"),
    ([{"signal": "rotation", "long": "IWM", "short": "SPX", "min_pct": 1, "sesions": 5}], None,
     "strategies[0].params.filters[0].sesions: unknown key (did you mean 'sessions'?)"),
    ([{"signal": "rotation", "long": "IWM", "short": "SPX"}], None,
     "strategies[0].params.filters[0]: give min_pct or max_pct (or both): the threshold the value must reach"),
    ([{"signal": "breadth", "long": "IWM", "short": "SPX"}], None,
     "strategies[0].params.filters[0]: Input tag 'breadth' found using 'signal' does not match any of the "
     "expected tags: 'rotation', 'drift', 'volume_spike'"),
    ([{"signal": "volume_spike", "lookback": 2, "min_samples": 3}], {},
     "strategies[0].params.filters[0]: min_samples 3 is above lookback 2: never enough history"),
], ids=["unknown-leg", "unknown-key", "no-threshold", "unknown-signal", "samples"])
def test_bad_filters_are_one_clear_message(filters, feeds, message):
    with pytest.raises(ConfigError) as err:
        fade_config(filters, feeds)
    assert str(err.value).startswith(f"test.yaml: {message}")


def test_a_feed_no_filter_uses_is_still_refused():
    with pytest.raises(ConfigError) as err:
        fade_config([], {"IWM": "sample:nasdaq"})
    assert "feeds: unknown role(s) ['IWM'] for december_fade" in str(err.value)


def test_a_sweep_file_varies_a_filter_threshold(tmp_path):
    from runner.optimize.sweep import optimize

    (tmp_path / "base.yaml").write_text(textwrap.dedent(f"""\
        name: base
        start: 2009-01-01
        end: 2009-12-31
        output: {{folder: {tmp_path / 'logs'}}}
        strategies:
          - name: december_fade
            symbol: SPX
            data: sample:sp500
            feeds: {{bonds: sample:aaa_bond_proxy, COMP: sample:nasdaq}}
            params:
              drift_min_pct: 1.5
              filters: [{{signal: rotation, long: SPX, short: COMP, sessions: 10, min_pct: 0.0}}]
        """))
    (tmp_path / "sweep.yaml").write_text(textwrap.dedent("""\
        name: filter-sweep
        base: base.yaml
        parameters:
          strategies.december_fade.params.filters.0.min_pct: [-5.0, 0.0]
        search: {method: grid}
        objective: {metric: total_return_pct, direction: maximize}
        """))
    result = optimize(tmp_path / "sweep.yaml", workers=1, out=tmp_path / "run", progress=False)
    rows = pd.read_csv(tmp_path / "run" / "results.csv")
    trades = dict(zip(rows.filter(like="min_pct").iloc[:, 0], rows["trades"]))
    # 2009: SPX trailed the NASDAQ by 1.62% over the 10 sessions before the signal
    assert trades == {-5.0: 1, 0.0: 0}
    assert result.total == 2


def test_the_shipped_quarter_end_sweep_varies_the_filter_threshold():
    from pathlib import Path

    from runner.optimize.sweep_config import load_sweep

    sweep = load_sweep(Path(__file__).resolve().parents[2] / "config" / "sweeps" / "quarter_end_fade.yaml")
    values = {p.key: p.spec.values for p in sweep.parameters}
    assert values["strategies.quarter_end_fade.params.filters.0.min_pct"] == [-5.0, -3.0, 0.0]
