"""flowbot pressure on generated bars with known answers: files, the IB cache, the drift's history."""
import datetime as dt
import json
import textwrap

import pytest

from generated import equity_and_bonds, write_csv
from runner.cli import main
from runner.data.cache import CachedSeries
from runner.ib.bars import BarSize
from runner.pressure.compute import compute_pressure
from runner.pressure.pressure_config import PressureConfig
from strategies import market_calendar as cal

D = dt.date


def drift(t, re, rb=0.0):
    return (t * (1 + re) / (t * (1 + re) + (1 - t) * (1 + rb)) - t) * 100


@pytest.fixture
def report():
    equity, bonds = equity_and_bonds()
    cfg = PressureConfig.model_validate({"instruments": {"SPY": "a.csv", "IEF": "b.csv"}, "equity": "SPY",
                                         "bonds": "IEF", "mixes": [0.6, 0.7]})
    return compute_pressure(cfg, {"SPY": equity, "IEF": bonds}, D(2018, 6, 29))


def test_returns_drift_and_flow_by_hand(report):
    assert report["returns"]["SPY"] == pytest.approx({"year": 0.05, "quarter": 0.05, "month": 0.05})
    assert report["returns"]["IEF"] == pytest.approx({"year": 0.0, "quarter": 0.0, "month": 0.0})
    rows = {(r["target"], r["period"]): r for r in report["mixes"]}
    assert rows[(0.6, "year")]["drift_pts"] == pytest.approx(drift(0.6, 0.05))        # +1.165
    assert rows[(0.6, "year")]["flow"] == pytest.approx(1e12 * drift(0.6, 0.05) / 100)  # 11.65 bn per $1T
    assert rows[(0.7, "year")]["drift_pts"] == pytest.approx(drift(0.7, 0.05))        # +1.014


def test_the_drift_against_its_own_history(report):
    history = report["history"]
    assert history["today"] == pytest.approx(drift(0.6, 0.05), abs=1e-4)
    assert history["same_date"] == pytest.approx({2016: drift(0.6, 0.10), 2017: drift(0.6, 0.20)}, abs=1e-4)
    assert history["years_higher"] == [2016, 2017] and history["percentile_same_date"] == 0.0
    # lower than today: every session before June 1 (drift 0); June on in 2016/2017 is higher; June 2018 equal
    before_june = sum(len(cal.sessions_between(D(y, 1, 1), D(y, 5, 31))) for y in (2016, 2017, 2018))
    sessions = len(cal.sessions_between(D(2016, 1, 4), D(2018, 6, 29)))
    assert history["sessions"] == sessions
    assert history["percentile_all_sessions"] == pytest.approx(round(before_june / sessions * 100, 1))


def test_calendar_at_the_end_of_june_2018(report):
    cal_facts = report["calendar"]
    assert cal_facts["sessions_left"] == {"month": 0, "quarter": 0,
                                          "year": len(cal.sessions_between(D(2018, 7, 2), D(2018, 12, 31)))}
    assert cal_facts["opex"]["month"] == "2018-06-15"
    assert cal_facts["early_closes_to_year_end"] == ["2018-07-03", "2018-11-23", "2018-12-24"]
    rows = cal_facts["sessions"]
    # every session from June 29 to the year end: 1 + the 126 left
    assert len(rows) == 127 and rows[0]["date"] == "2018-06-29" and rows[-1]["date"] == "2018-12-31"
    assert rows[0]["quarter_end"] and rows[0]["sessions_to_quarter_end"] == 1 and rows[0]["sessions_to_year_end"] == 127


def test_calendar_covers_each_session_to_the_year_end():
    from runner.pressure.calendar_table import calendar_facts, terminal_rows

    facts = calendar_facts(D(2018, 9, 14), "SPY")
    rows = {r["date"]: r for r in facts["sessions"]}
    # Sep 14 to Dec 31 2018: 11 sessions left in September (14, 17-21, 24-28), 21 + 21 + 20 in Oct-Dec
    # (Nov 22 Thanksgiving, Dec 5 the national day of mourning for G. H. W. Bush, Dec 25 closed)
    assert len(rows) == 11 + 23 + 21 + 19
    assert facts["sessions_left"] == {"month": 10, "quarter": 10, "year": 73}
    assert [(o["date"], o["quarterly"]) for o in facts["opex_to_year_end"]] == [
        ("2018-09-21", True), ("2018-10-19", False), ("2018-11-16", False), ("2018-12-21", True)]
    assert facts["early_closes_to_year_end"] == ["2018-11-23", "2018-12-24"]
    day_after_thanksgiving = rows["2018-11-23"]
    assert (day_after_thanksgiving["close"], day_after_thanksgiving["moc_cutoff_nyse"],
            day_after_thanksgiving["moc_cutoff_nasdaq"]) == ("13:00", "12:45", "12:50")
    assert (rows["2018-10-19"]["opex"], rows["2018-10-19"]["sessions_to_month_end"],
            rows["2018-10-19"]["sessions_to_quarter_end"], rows["2018-10-19"]["sessions_to_year_end"]) == (True, 9, 49, 49)
    assert "2018-12-05" not in rows and rows["2018-12-31"]["year_end"]
    assert all(r["moc_cutoff_nyse"] == "15:45" for r in rows.values() if not r["early_close"])
    # the terminal folds the ordinary sessions after September and keeps every notable one on its own row
    folded = terminal_rows(facts)
    assert sum(r["count"] for r in folded) == len(rows)
    assert [r["label"] for r in folded if r["date"].startswith("2018-10")] == [
        "2018-10-01–10-18", "2018-10-19", "2018-10-22–10-30", "2018-10-31"]
    assert all(r["count"] == 1 for r in folded if r["date"].startswith("2018-09"))


def write_pressure_file(tmp_path, instruments: str) -> object:
    path = tmp_path / "pressure.yaml"
    path.write_text(textwrap.dedent(f"""\
        instruments: {instruments}
        equity: SPY
        bonds: IEF
        mixes: [0.6]
        signals:
          - {{signal: rotation, long: SPY, short: IEF, sessions: 21, min_pct: 1.0}}
        """))
    return path


def test_cli_on_csv_files(tmp_path, capsys):
    equity, bonds = equity_and_bonds()
    write_csv(equity, tmp_path / "spy.csv")
    write_csv(bonds, tmp_path / "ief.csv")
    path = write_pressure_file(tmp_path, f"{{SPY: {tmp_path / 'spy.csv'}, IEF: {tmp_path / 'ief.csv'}}}")
    assert main(["pressure", "-c", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["date"] == "2018-06-29"          # default: the last bar
    # June 2018 has 21 sessions: 21 back is May 31, before the step: SPY +5% against flat IEF
    assert report["signals"][0]["values"] == [pytest.approx(5.0)] and report["signals"][0]["passes"]


def test_cli_on_the_ib_cache(tmp_path, capsys):
    equity, bonds = equity_and_bonds()
    for symbol, frame in (("SPY", equity), ("IEF", bonds)):
        series = CachedSeries.open(tmp_path / "cache", symbol, BarSize.parse("1 day"))
        series.merge(frame, sorted({ts.date() for ts in frame.index}))
        series.save()
    path = write_pressure_file(tmp_path, "{SPY: sample:sp500, IEF: sample:aaa_bond_proxy}")
    code = main(["pressure", "-c", str(path), "--source", "cache", "--cache", str(tmp_path / "cache"),
                 "--date", "2018-06-30", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["date"] == "2018-06-29" and "2018-06-30 has no bar (not a session)" in report["note"]
    assert report["labels"]["SPY"] == "cache:SPY"
    assert report["history"]["years_higher"] == [2016, 2017]


def test_cache_without_the_symbol_says_how_to_fetch_it(tmp_path, capsys):
    path = write_pressure_file(tmp_path, "{SPY: sample:sp500, IEF: sample:aaa_bond_proxy}")
    assert main(["pressure", "-c", str(path), "--source", "cache", "--cache", str(tmp_path / "empty")]) == 2
    assert "flowbot fetch --symbol SPY" in capsys.readouterr().err
