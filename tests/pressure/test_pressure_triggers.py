"""Which playbook would trigger: the monitor's answer is the playbook's own decision code, so it agrees
with the backtest day by day and follows any change of a parameter or of the code."""
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from runner.backtest.run import run_backtest
from runner.config import load_config
from runner.pressure.triggers import load_playbook_bars, playbook_rows, probe_start
from strategies import market_calendar as cal
from strategies.conditions import Condition
from strategies.quarter_end_fade import QuarterEndFade

ROOT = Path(__file__).resolve().parents[2]
QUARTER_END = ROOT / "config" / "quarter_end.yaml"
D = dt.date


def row(cfg, day: dt.date, bars=None) -> dict:
    return playbook_rows(cfg, bars if bars is not None else load_playbook_bars(cfg), day)[0]


@pytest.fixture(scope="module")
def quarter_end():
    cfg = load_config(QUARTER_END)
    return cfg, load_playbook_bars(cfg), run_backtest(cfg).trades


def test_every_backtest_entry_was_decided_on_a_close_the_monitor_says_would_trigger(quarter_end):
    cfg, bars, trades = quarter_end
    assert len(trades) >= 8
    for entry in pd.to_datetime(trades["entry_time"], utc=True):
        decided = cal.session_offset(entry.tz_convert("America/New_York").date(), -1)   # entry: the next open
        on_the_day = row(cfg, decided, bars)
        assert on_the_day["would_trigger"], (decided, on_the_day["status"])
        assert on_the_day["waits_on"] == []
        before = row(cfg, cal.session_offset(decided, -1), bars)
        assert not before["would_trigger"], (decided, before["status"])


def test_a_quiet_window_waits_on_every_day(quarter_end):
    cfg, bars, trades = quarter_end
    # 2018's quarter-end windows: no trade in the backtest, so no close of them triggers
    assert 2018 not in set(pd.to_datetime(trades["entry_time"], utc=True).dt.year)
    for month in (3, 6, 9, 12):
        opex = cal.monthly_opex_session(2018, month)
        for day in cal.sessions_between(cal.session_offset(opex, 2), cal.nth_session_of_month(2018, month, -2)):
            assert not row(cfg, day, bars)["would_trigger"], day


@pytest.mark.parametrize("override, waits_on", [
    ("strategies.quarter_end_fade.params.rally_pct=2.0", "rally over the Dec OPEX close, %"),        # rally 1.67%
    ("strategies.quarter_end_fade.params.drift_min_pct=1.5", "quarter-to-date drift of 60%/40%, pts"),  # 1.25 pts
    ("strategies.quarter_end_fade.params.filters.0.min_pct=1.0", "filter rotation"),                  # +0.73%
    ("strategies.quarter_end_fade.params.quarters=[3,6,9]", "quarter traded"),
])
def test_a_playbook_parameter_changes_the_answer(override, waits_on):
    day = D(2015, 12, 22)   # the backtest sells the next open
    assert row(load_config(QUARTER_END), day)["would_trigger"]
    changed = row(load_config(QUARTER_END, [override]), day)
    assert not changed["would_trigger"] and changed["waits_on"] == [waits_on]


def test_the_answer_comes_from_the_playbooks_code(monkeypatch):
    cfg = load_config(QUARTER_END)
    day = D(2015, 12, 22)
    monkeypatch.setattr(QuarterEndFade, "extra_conditions",
                        lambda self, today, exit_day: [Condition("a condition only the code has", today.day != 22)])
    answer = row(cfg, day)
    assert answer["waits_on"] == ["a condition only the code has"]
    assert row(cfg, cal.session_offset(day, 1))["conditions"][-2]["ok"]   # the 23rd: met (shown, from the code)


def test_an_open_trade_is_shown_instead_of_a_new_entry():
    cfg = load_config(ROOT / "config" / "backtest.yaml")
    # december_fade sells the 2009-12-24 open (decided on Dec 23) and holds to the Dec 31 close
    fade = next(r for r in playbook_rows(cfg, load_playbook_bars(cfg), D(2009, 12, 28)) if r["name"] == "december_fade")
    assert not fade["would_trigger"] and fade["status"].startswith("in a trade (time exit 2009-12-31)")


def test_the_probe_starts_early_enough_for_the_filters_history():
    from strategies.signals.filters import VolumeSpikeFilter

    params = load_config(QUARTER_END).strategies[0].typed_params()
    assert probe_start(params, D(2019, 1, 2)) == D(2017, 11, 1)       # the 2018 year-end close is inside
    two_years = VolumeSpikeFilter(signal="volume_spike", lookback=24, min_ratio=1.3)
    longer = params.model_copy(update={"filters": [*params.filters, two_years]})
    assert probe_start(longer, D(2019, 1, 2)) == D(2016, 11, 1)       # 24 earlier month ends, and 2 more


def test_a_date_early_in_the_data_is_still_warming_up(capsys):
    import json

    from runner.cli import main

    # the sample starts 1999-01-04: six sessions are too few for the ATR(14) the playbooks read
    assert main(["pressure", "--date", "1999-01-12", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["playbooks"]}
    for name in ("december_fade", "january_snapback"):
        assert rows[name]["status"] == "still warming up on 1999-01-12 (too little history before it)"
        assert rows[name]["waits_on"] == ["warm-up"] and not rows[name]["would_trigger"]
    assert main(["pressure", "--date", "1999-01-12"]) == 0
    assert "december_fade (SPX): still warming up" in capsys.readouterr().out


def test_the_intraday_fades_filters_read_as_its_trades_recorded_them():
    # config/vwap_filters.yaml: every trade's filter value (as of the previous session's close) is the
    # value the monitor shows for that session
    cfg = load_config(ROOT / "config" / "vwap_filters.yaml", ["end=2018-06-30"])
    trades = run_backtest(cfg).trades
    assert len(trades) >= 2
    bars = load_playbook_bars(cfg)
    assert set(bars) == {"SPY.SPY", "SPY.QQQ"}      # the daily legs only, not the minutes
    for trade in trades.to_dict("records"):
        day = dt.date.fromisoformat(trade["entry_time"][:10])
        shown = next(c for c in row(cfg, day, bars)["conditions"] if c["condition"].startswith("filter"))
        as_of, text = trade["filters"].split(": ", 1)
        assert shown["condition"] == f"filter rotation ({as_of})" and shown["threshold"] == text and shown["ok"]
