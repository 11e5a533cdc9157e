"""Issue 11: the default run's per-playbook figures, recomputed here independently from the raw bars,
trades.csv and equity.csv (the exchange calendar read through exchange_calendars itself, not flowbot's
calendar module), so a figure that is wrong or named for something else fails."""
from __future__ import annotations

import datetime as dt
import itertools
import json

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from runner.data.sample import load_sample

NY = "America/New_York"
XNYS = xcals.get_calendar("XNYS", start="1998-01-01", end="2020-12-31")
SESSIONS = XNYS.sessions.date   # numpy array of datetime.date


def session_after(day: dt.date, n: int) -> dt.date:
    i = int(np.searchsorted(SESSIONS, day))
    return SESSIONS[i + n]


def december_opex(year: int) -> dt.date:
    fridays = [d for d in pd.date_range(f"{year}-12-01", f"{year}-12-31", freq="W-FRI").date]
    third = fridays[2]
    return third if third in set(SESSIONS) else session_after(third, -1)


def nth_of_month(year: int, month: int, n: int) -> dt.date:
    days = [d for d in SESSIONS if d.year == year and d.month == month]
    return days[n - 1] if n > 0 else days[n]


@pytest.fixture(scope="module")
def run(default_run):
    cfg, result, folder = default_run
    metrics = json.loads((folder / "metrics.json").read_text())
    trades = pd.read_csv(folder / "trades.csv")
    equity = pd.read_csv(folder / "equity.csv")
    return cfg, metrics, trades, equity


def close_on(bars: pd.DataFrame, day: dt.date, column: str = "close") -> float:
    local = bars.index.tz_convert(NY) if bars.index.tz is not None else bars.index
    return float(bars[column].to_numpy()[np.flatnonzero(local.date == day)[-1 if column == "close" else 0]])


# -- 1. mean trade is a true mean, and every figure is what its name says ----------------------------

def test_mean_and_median_trade_are_those_of_pnl_pct(run):
    _, metrics, trades, _ = run
    for name, figures in metrics["playbooks"].items():
        mine = trades[trades.strategy == name]
        perf, against = figures["performance"], figures["against_windows"]
        assert perf["trades"] == len(mine) == figures["sample"]["trades"]
        assert perf["mean_trade_return_pct"] == pytest.approx(mine.pnl_pct.mean(), abs=1e-4)
        assert perf["median_trade_return_pct"] == pytest.approx(mine.pnl_pct.median(), abs=1e-4)
        assert against["trade_return_mean_pct"] == pytest.approx(mine.pnl_pct.mean(), abs=1e-4)
        assert perf["win_rate_pct"] == pytest.approx((mine.pnl > 0).mean() * 100, abs=0.01)
        assert perf["net_pnl"] == pytest.approx(mine.pnl.sum(), abs=0.01)


def test_vwap_hold_and_unconditional_are_means_per_window_as_named(run):
    _, metrics, trades, _ = run
    vwap = metrics["playbooks"]["vwap_close_fade"]
    windows = pd.DataFrame(vwap["windows"])
    # the case: 17 trades in one year; the mean trade is not the year's sum
    assert vwap["against_windows"]["hold_window_mean_pct"] == pytest.approx(windows.hold_pct.mean(), abs=1e-3)
    assert vwap["against_windows"]["unconditional_window_mean_pct"] == pytest.approx(
        windows.unconditional_pct.mean(), abs=1e-3)
    (year,) = vwap["per_year"]
    mine = trades[trades.strategy == "vwap_close_fade"]
    assert year["trade_return_mean_pct"] == pytest.approx(mine.pnl_pct.mean(), abs=1e-3)
    assert year["trade_return_sum_pct"] == pytest.approx(mine.pnl_pct.sum(), abs=1e-3)
    assert year["hold_mean_pct"] == pytest.approx(windows.hold_pct.mean(), abs=1e-3)
    assert year["hold_compounded_pct"] == pytest.approx((np.prod(1 + windows.hold_pct / 100) - 1) * 100, abs=1e-3)


def test_vwap_window_spans_from_the_earliest_fill_to_the_close():
    """Each VWAP window: bought at the open of the bar after the session's first window bar (15:31 on a
    regular day), valued at the session's last close; its side fades the move since 15:00."""
    from strategies.vwap_close_fade import VwapCloseFade, VwapCloseFadeParams

    bars = load_sample("spy_1min_synthetic")
    windows = VwapCloseFade.holding_windows(VwapCloseFadeParams(), bars)
    local = bars.index.tz_convert(NY)
    for _, w in windows.sample(8, random_state=1).iterrows():
        day = w.first_session
        session = bars[local.date == day]
        t = session.index.tz_convert(NY)
        close_time = XNYS.session_close(pd.Timestamp(day)).tz_convert(NY)
        minutes = (close_time - t).total_seconds() / 60   # minutes from each bar's start to the close
        first_window = int(np.flatnonzero(minutes <= 30)[0])
        reference = session.close.to_numpy()[np.flatnonzero(minutes > 60)[-1]]   # bar ending at close-60
        entry = session.open.to_numpy()[first_window + 1]
        hold = session.close.to_numpy()[-1] / entry - 1
        move = session.close.to_numpy()[first_window] - reference
        assert w.hold == pytest.approx(hold, rel=1e-9)
        assert w.unconditional == pytest.approx(-np.sign(move) * hold, rel=1e-9)


# -- 2. no pooled headline; the label wherever a figure is -----------------------------------------

def test_no_pooled_headline_and_every_playbook_labelled(run):
    _, metrics, _, _ = run
    for pooled in ("total_return_pct", "sharpe", "profit_factor", "cagr_pct", "baseline", "per_year"):
        assert pooled not in metrics
    labels = {name: f["data_label"] for name, f in metrics["playbooks"].items()}
    assert labels == {"december_fade": "REAL+PROXY", "january_snapback": "REAL", "vwap_close_fade": "SYNTHETIC"}
    combined = metrics["combined_non_synthetic"]
    assert combined["playbooks"] == ["december_fade", "january_snapback"]
    assert combined["left_out_synthetic"] == ["vwap_close_fade"]
    real = [f for n, f in metrics["playbooks"].items() if n != "vwap_close_fade"]
    assert combined["net_pnl"] == pytest.approx(sum(f["performance"]["net_pnl"] for f in real), abs=0.01)
    assert any("SYNTHETIC" in w for w in metrics["playbooks"]["vwap_close_fade"]["warnings"])


def test_the_summary_names_each_playbooks_label(default_run, capsys):
    from runner.report.summary import print_backtest_summary, run_notes

    cfg, result, folder = default_run
    print_backtest_summary(cfg, result, folder, run_notes(cfg))
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if "vwap_close_fade" in line]
    assert rows and all("SYNTHETIC" in line for line in rows)
    table_rows = [line for line in out.splitlines() if line.startswith("│")]
    for name, label in (("december_fade", "REAL+PROXY"), ("january_snapback", "REAL"),
                        ("vwap_close_fade", "SYNTHETIC")):   # never cut short on a narrow terminal
        mine = [line for line in table_rows if f"│ {name} " in line]
        assert len(mine) == 2 and all(f"│ {label} " in line for line in mine), (name, table_rows)
    assert "left out as SYNTHETIC: vwap_close_fade" in out
    assert "total return" not in out.lower().split("run folder")[0].split("combined")[-1]


# -- 3. january_snapback: each trade beside its own window's hold -----------------------------------

def test_january_trades_sit_in_the_row_of_their_window(run):
    _, metrics, trades, _ = run
    nasdaq = load_sample("nasdaq")
    jan = metrics["playbooks"]["january_snapback"]
    mine = trades[trades.strategy == "january_snapback"]
    holds = []
    for _, t in mine.iterrows():
        entry = pd.Timestamp(t.entry_time).tz_convert(NY).date()
        year = entry.year if entry.month == 12 else entry.year - 1     # the window of December ``year``
        assert entry == nth_of_month(year, 12, -1)                     # bought at the last December close
        last = nth_of_month(year + 1, 1, 5)                             # hold_sessions: 5
        hold = close_on(nasdaq, last) / close_on(nasdaq, entry) - 1
        row = next(r for r in jan["per_year"] if r["year"] == year)
        assert row["trades"] == 1
        assert row["hold_mean_pct"] == pytest.approx(hold * 100, abs=1e-3)
        holds.append(hold * 100)
    assert jan["against_windows"]["hold_in_traded_windows_mean_pct"] == pytest.approx(np.mean(holds), abs=1e-3)
    assert jan["against_windows"]["hold_in_traded_windows_mean_pct"] == pytest.approx(1.43, abs=0.01)


# -- 4. december_fade: measured from the OPEX+3 open, its earliest fill -----------------------------

def test_december_windows_start_at_the_opex_plus_3_open(run):
    _, metrics, _, _ = run
    sp500 = load_sample("sp500")
    windows = metrics["playbooks"]["december_fade"]["windows"]
    assert [w["year"] for w in windows] == list(range(1999, 2019))
    for w in windows:
        first = session_after(december_opex(w["year"]), 3)
        last = nth_of_month(w["year"], 12, -1)
        assert (w["first_session"], w["entry_at"], w["last_session"]) == (str(first), "open", str(last))
        hold = close_on(sp500, last) / close_on(sp500, first, "open") - 1
        assert w["hold_pct"] == pytest.approx(hold * 100, abs=1e-3)
        assert w["unconditional_pct"] == pytest.approx(-hold * 100, abs=1e-3)


# -- 7 and 8: exposure and drawdown see intraday trades; each playbook its own account --------------

def test_exposure_counts_the_minutes_held(run):
    _, metrics, trades, equity = run
    mine = trades[trades.strategy == "vwap_close_fade"]
    own = equity[equity.strategy == "vwap_close_fade"]
    days = sorted(set(pd.to_datetime(own.time, utc=True).dt.tz_convert(NY).dt.date))
    total = sum((XNYS.session_close(pd.Timestamp(d)) - XNYS.session_open(pd.Timestamp(d))).total_seconds()
                for d in days)
    held = (pd.to_datetime(mine.exit_time, utc=True) - pd.to_datetime(mine.entry_time, utc=True)).dt.total_seconds()
    exposure = metrics["playbooks"]["vwap_close_fade"]["performance"]["exposure_pct"]
    assert exposure > 0
    assert exposure == pytest.approx(held.sum() / total * 100, abs=1e-3)


def test_drawdown_is_sampled_inside_the_sessions_with_a_position(run):
    _, metrics, trades, equity = run
    own = equity[equity.strategy == "vwap_close_fade"].reset_index(drop=True)
    times = pd.to_datetime(own.time, utc=True)
    for _, t in trades[trades.strategy == "vwap_close_fade"].iterrows():
        entry, exit_ = pd.Timestamp(t.entry_time), pd.Timestamp(t.exit_time)
        inside = own[(times >= entry) & (times <= exit_)]
        if exit_ - entry > pd.Timedelta(minutes=2):
            assert len(inside) >= 2, f"no intraday equity rows while {t.entry_time} was open"
    values = own.value.to_numpy()
    worst = (values / np.maximum.accumulate(values) - 1).min() * 100
    assert metrics["playbooks"]["vwap_close_fade"]["performance"]["max_drawdown_pct"] == pytest.approx(worst, abs=1e-3)
    closes = own.groupby(times.dt.tz_convert(NY).dt.date).value.last().to_numpy()
    at_closes = (closes / np.maximum.accumulate(closes) - 1).min() * 100
    assert worst < at_closes - 1e-6   # the intraday dips are deeper than the closes show


def test_each_playbook_alone_gives_the_same_figures(default_run):
    from runner.backtest.run import run_backtest

    cfg, result, _ = default_run
    for strategy in cfg.strategies:
        if strategy.display_name == "january_snapback":
            continue   # two of three suffice: each run is independent of the others by construction
        alone = run_backtest(cfg.model_copy(update={"strategies": [strategy]}))
        mine = alone.metrics["playbooks"][strategy.display_name]
        beside = result.metrics["playbooks"][strategy.display_name]
        assert mine == beside
        pd.testing.assert_frame_equal(alone.trades, result.trades[result.trades.strategy == strategy.display_name]
                                      .reset_index(drop=True))


def test_own_account_return_from_equity_csv(run):
    cfg, metrics, trades, equity = run
    for name, figures in metrics["playbooks"].items():
        own = equity[equity.strategy == name]
        perf = figures["performance"]
        assert own.value.iloc[0] == pytest.approx(cfg.broker.cash)
        assert perf["total_return_pct"] == pytest.approx((own.value.iloc[-1] / cfg.broker.cash - 1) * 100, abs=1e-3)
        closed = trades[trades.strategy == name].pnl.sum()
        assert own.value.iloc[-1] == pytest.approx(cfg.broker.cash + closed, abs=0.01)   # flat at the end


# -- the luck measure ---------------------------------------------------------------------------------

def test_luck_p_value_by_brute_force(run):
    _, metrics, trades, _ = run
    for name in ("december_fade", "january_snapback"):
        f = metrics["playbooks"][name]
        side = np.array([w["unconditional_pct"] for w in f["windows"]]) / 100
        mean_trade = trades[trades.strategy == name].pnl_pct.mean() / 100
        k = f["sample"]["trades"]
        means = [side[list(c)].mean() for c in itertools.combinations(range(len(side)), k)]
        expected = np.mean(np.array(means) >= mean_trade - 1e-12)
        assert f["luck"]["exact"] and f["luck"]["p_value"] == pytest.approx(expected, abs=1e-4)
        assert any("too few to conclude anything" in w for w in f["warnings"])
