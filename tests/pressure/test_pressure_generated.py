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
    assert [s["date"] for s in cal_facts["sessions"]] == ["2018-06-29"]


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
