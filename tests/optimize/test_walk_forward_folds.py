"""Walk-forward folds bin trades by the year of their playbook window (the backtest's per-year rule),
not by their exit year, and cut the equity at the same boundaries; hand-built trades on fold boundaries."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from runner.backtest.run import run_backtest
from runner.config import validate_config
from runner.data.load import load_run_bars
from runner.optimize.folds import FoldSlicer, run_windows, year_end
from runner.optimize.sweep import optimize, read_results
from strategies import market_calendar

from test_optimize import write_sweep

NY = "America/New_York"


def config(name: str, symbol: str, data: str, start="2008-01-01", end="2013-12-31", params=None, tmp=None) -> dict:
    return {"name": "folds", "start": start, "end": end, "output": {"folder": str(tmp or "runs")},
            "strategies": [{"name": name, "symbol": symbol, "data": data, "params": params or {}}]}


def close_of(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(market_calendar.session_close(day)).tz_convert(NY)


def equity_over(sessions: list[dt.date], jumps: dict[dt.date, float]) -> pd.DataFrame:
    """A daily equity curve of 100_000 that gains ``jumps[day]`` at that session's close."""
    value, rows = 100_000.0, []
    for day in sessions:
        value += jumps.get(day, 0.0)
        rows.append((close_of(day), value, value))
    return pd.DataFrame(rows, columns=["time", "value", "cash"])


def trade(strategy: str, entry: dt.date, exit_: dt.date, pnl: float) -> dict:
    return {"strategy": strategy, "symbol": "X", "direction": "long", "entry_time": close_of(entry),
            "entry_price": 100.0, "exit_time": close_of(exit_), "exit_price": 101.0, "size": 10, "pnl": pnl,
            "pnl_pct": pnl / 1000.0 * 100.0, "commission": 0.0, "exit_reason": "time", "filters": ""}


def sessions_between(first: str, last: str) -> list[dt.date]:
    return list(market_calendar.sessions_between(dt.date.fromisoformat(first), dt.date.fromisoformat(last)))


@pytest.fixture
def snapback(tmp_path):
    cfg = validate_config(config("january_snapback", "COMP", "sample:nasdaq", tmp=tmp_path), "test")
    return cfg, load_run_bars(cfg)


def test_a_january_snapback_trade_bought_in_december_belongs_to_its_window_year(snapback):
    cfg, bars = snapback
    windows = run_windows(cfg, bars)
    hold = cfg.active_strategies()[0].typed_params().hold_sessions
    window_2011 = windows[windows["year"] == 2011].iloc[0]
    bought, sold = window_2011["first_session"], window_2011["last_session"]
    assert (bought.month, sold.year, sold.month) == (12, 2012, 1)    # last December close to January session N
    assert year_end(windows, 2011) == sold and year_end(windows, 2010).year == 2011
    sessions = sessions_between("2010-01-04", "2013-06-28")
    equity = equity_over(sessions, {sold: 500.0})
    trades = pd.DataFrame([trade("january_snapback", bought, sold, 500.0)])
    slicer = FoldSlicer(equity, trades, windows)
    assert list(slicer.trade_years) == [2011]                       # by exit year it would be 2012
    equity_2011, trades_2011 = slicer.part(2011, 2011)
    equity_2012, trades_2012 = slicer.part(2012, 2012)
    assert len(trades_2011) == 1 and len(trades_2012) == 0
    # The fold 2011 runs from the close ending window 2010 (January 2011, session `hold`) to the close ending
    # window 2011 (January 2012): the trade's P&L is inside it, and 2012 starts where 2011 ends.
    assert equity_2011["time"].iloc[0].date() == year_end(windows, 2010)
    assert equity_2011["time"].iloc[-1].date() == sold
    assert equity_2012["time"].iloc[0].date() == sold
    assert slicer.metrics(2011, 2011)["net_pnl"] == 500.0
    assert slicer.metrics(2011, 2011)["total_return_pct"] > 0 and slicer.metrics(2012, 2012)["total_return_pct"] == 0
    assert slicer.metrics(2012, 2012)["trades"] == 0
    assert sold == market_calendar.nth_session_of_month(2012, 1, hold)


def test_a_december_fade_trade_sold_on_the_last_session_stays_in_its_year(tmp_path):
    cfg = validate_config(config("december_fade", "SPX", "sample:sp500", tmp=tmp_path), "test")
    bars = load_run_bars(cfg)
    windows = run_windows(cfg, bars)
    window_2011 = windows[windows["year"] == 2011].iloc[0]
    bought, sold = window_2011["first_session"], window_2011["last_session"]
    assert sold == dt.date(2011, 12, 30) and year_end(windows, 2011) == dt.date(2011, 12, 31)
    sessions = sessions_between("2010-01-04", "2012-12-31")
    equity = equity_over(sessions, {sold: -300.0})
    # A second trade entered outside every window (a June entry): it goes by its entry year.
    trades = pd.DataFrame([trade("december_fade", bought, sold, -300.0),
                           trade("december_fade", dt.date(2012, 6, 1), dt.date(2012, 6, 4), 0.0)])
    slicer = FoldSlicer(equity, trades, windows)
    assert list(slicer.trade_years) == [2011, 2012]
    assert slicer.metrics(2011, 2011)["trades"] == 1 and slicer.metrics(2011, 2011)["net_pnl"] == -300.0
    assert slicer.metrics(2012, 2012)["trades"] == 1
    assert slicer.part(2011, 2011)[0]["time"].iloc[-1].date() == sold   # calendar years for december_fade
    assert slicer.part(2012, 2012)[0]["time"].iloc[0].date() == sold


def test_consecutive_folds_split_the_run_without_gap_or_overlap(snapback):
    cfg, bars = snapback
    windows = run_windows(cfg, bars)
    sessions = sessions_between("2008-01-02", "2013-12-31")
    rng = np.random.default_rng(3)
    jumps = {d: float(rng.normal(0, 50)) for d in sessions}
    equity = equity_over(sessions, jumps)
    slicer = FoldSlicer(equity, pd.DataFrame(columns=["strategy", "entry_time", "exit_time", "pnl", "pnl_pct"]),
                        windows)
    growth = 1.0
    for year in range(2008, 2014):
        part, _ = slicer.part(year, year)
        growth *= part["value"].iloc[-1] / part["value"].iloc[0]
    assert growth == pytest.approx(equity["value"].iloc[-1] / equity["value"].iloc[0], rel=1e-12)
    several, _ = slicer.part(2009, 2011)
    assert several["time"].iloc[0] == slicer.part(2009, 2009)[0]["time"].iloc[0]
    assert several["time"].iloc[-1] == slicer.part(2011, 2011)[0]["time"].iloc[-1]


GRID_SNAPBACK = """\
name: snapback-folds
base: base.yaml
parameters:
  strategies.january_snapback.params.hold_sessions: [3, 5]
search: {method: grid}
objective: {metric: total_return_pct, direction: maximize}
walk_forward: {train_years: 4, test_years: 1}
"""


def test_sweep_fold_counts_match_the_backtest_per_year_rows(tmp_path):
    """Each fold's trade count is the backtest's per-year count of the same run (january_snapback's
    trades exit in January of the next year: by exit year every count would sit one fold late)."""
    raw = config("january_snapback", "COMP", "sample:nasdaq", start="1999-01-01", end="2018-12-31",
                 tmp=tmp_path / "logs")
    import yaml

    (tmp_path / "base.yaml").write_text(yaml.safe_dump(raw))
    result = optimize(write_sweep(tmp_path, GRID_SNAPBACK), workers=1, out=tmp_path / "run", progress=False,
                      summary=False)
    rows = {r["run"]: r for r in read_results(tmp_path / "run" / "results.csv")}
    for run_id, hold in ((0, 3), (1, 5)):
        raw["strategies"][0]["params"] = {"hold_sessions": hold}
        metrics = run_backtest(validate_config(raw, "test")).metrics
        per_year = {r["year"]: r["trades"] for r in metrics["playbooks"]["january_snapback"]["per_year"]}
        counted = 0
        for fold in result.walk_forward["folds"]:
            year = int(fold["label"])
            assert rows[run_id][f"wf.{fold['label']}.test.trades"] == per_year.get(year, 0), (run_id, year)
            counted += per_year.get(year, 0)
        assert counted > 0
    chosen = [f for f in result.walk_forward["folds"] if f["run"] is not None]
    assert result.walk_forward["summary"]["oos_trades"] == sum(f["oos_trades"] for f in chosen)
    page = (tmp_path / "run" / "report.html").read_text()
    assert "Years are the playbook&#x27;s window years" in page or "Years are the playbook's window years" in page


def test_intraday_windows_are_sessions_and_their_folds_calendar_years(tmp_path):
    """vwap_close_fade's windows are its eligible sessions (holding_windows): its trades sit in their
    session's year, and its year ends are December 31."""
    from runner.optimize.runs import run_once

    raw = config("vwap_close_fade", "SPY", "sample:spy_1min_synthetic", start="2018-01-01", end="2018-12-31",
                 tmp=tmp_path)
    cfg = validate_config(raw, "test")
    bars = load_run_bars(cfg)
    windows = run_windows(cfg, bars)
    assert len(windows) > 10 and set(windows["year"]) == {2018} and set(windows["strategy"]) == {"vwap_close_fade"}
    assert year_end(windows, 2018) == dt.date(2018, 12, 31)
    equity, trades = run_once(cfg, bars)
    slicer = FoldSlicer(equity, trades, windows)
    assert len(trades) > 0 and set(slicer.trade_years) == {2018}
    assert slicer.metrics(2018, 2018)["trades"] == len(trades)
