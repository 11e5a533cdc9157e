"""flowbot pressure out of the box on the embedded sample: terminal, --json, --html, bad input."""
import json
import textwrap

import pytest

from runner.cli import main
from runner.data.sample import load_sample


def run_json(capsys, *args):
    assert main(["pressure", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_terminal_report_on_the_sample_shows_its_labels(capsys):
    assert main(["pressure", "--date", "2018-12-21"]) == 0
    out = capsys.readouterr().out
    assert "flowbot pressure 2018-12-21" in out
    assert "PROXY bond total-return index" in out and "PROXY (bonds)" in out
    assert "december_fade (SPX): waits on: window" in out


def test_json_on_the_sample_by_hand(capsys):
    report = run_json(capsys, "--date", "2018-12-21")
    closes = load_sample("sp500")["close"]
    ytd = closes.loc["2018-12-21"] / closes.loc["2017-12-29"] - 1
    assert report["returns"]["SPX"]["year"] == pytest.approx(ytd)
    bonds = load_sample("aaa_bond_proxy")["close"]
    bond_ytd = bonds.loc["2018-12-21"] / bonds.loc["2017-12-29"] - 1
    assert report["returns"]["PROXY"]["year"] == pytest.approx(bond_ytd)
    sixty = next(r for r in report["mixes"] if r["target"] == 0.6 and r["period"] == "year")
    weight = 0.6 * (1 + ytd) / (0.6 * (1 + ytd) + 0.4 * (1 + bond_ytd))
    assert sixty["weight"] == pytest.approx(weight) and sixty["flow"] == pytest.approx(1e12 * (weight - 0.6))
    calendar = report["calendar"]
    assert calendar["sessions_left"] == {"month": 5, "quarter": 5, "year": 5}
    assert calendar["opex"]["december"] == "2018-12-21"
    christmas_eve = calendar["sessions"][1]
    assert christmas_eve == {"date": "2018-12-24", "close": "13:00", "early_close": True, "moc_cutoff_nyse": "12:45",
                             "moc_cutoff_nasdaq": "12:50", "opex": False, "quarterly_opex": False,
                             "sessions_to_month_end": 5, "sessions_to_quarter_end": 5, "sessions_to_year_end": 5,
                             "month_end": False, "quarter_end": False, "year_end": False}
    assert calendar["opex_to_year_end"] == [{"date": "2018-12-21", "quarterly": True}]
    assert [s["signal"] for s in report["signals"]] == ["rotation", "volume_spike"]
    fade = next(p for p in report["playbooks"] if p["playbook"] == "december_fade")
    assert not fade["would_trigger"] and fade["waits_on"][0] == "window"


def test_a_day_the_backtest_sells_is_a_day_the_monitor_says_would_trigger(capsys):
    # The default backtest's december_fade sells the 2003-12-30 open: decided on the 2003-12-29 close.
    report = run_json(capsys, "--date", "2003-12-29")
    fade = next(p for p in report["playbooks"] if p["playbook"] == "december_fade")
    assert fade["would_trigger"] and fade["waits_on"] == []
    rally = next(c for c in fade["conditions"] if c["condition"].startswith("rally"))
    assert rally["value"] >= 1.5


def test_html_page_is_self_contained_with_the_drift_chart(tmp_path, capsys):
    page = tmp_path / "pressure.html"
    assert main(["pressure", "--date", "2018-12-21", "--html", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "data:image/png;base64," in text and "PROXY" in text
    # the playbooks' conditions: january_snapback's two sell-off tests are alternatives, december_fade's
    # pressure reads as in the log
    assert "yes</span> (one of)" in text and "equity weight drifted -1.78 pts" in text
    assert "http://" not in text and "https://" not in text and "<script" not in text


def test_date_before_the_data_is_one_clear_error(capsys):
    assert main(["pressure", "--date", "1990-01-02"]) == 2
    assert capsys.readouterr().err.strip() == "error: SPX: the data starts 1999-01-04; --date 1990-01-02 is before it"


def test_bad_pressure_file_names_the_key(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent("""\
        instruments: {SPX: sample:sp500}
        equity: SPX
        bonds: IEF
        mixes: [60]
        """))
    assert main(["pressure", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: mixes (line 4): each mix is an equity weight between 0 and 1, e.g. 0.6 (got [60.0])" in err
    path.write_text("instruments: {SPX: sample:sp500}\nequity: SPX\nbonds: IEF\n")
    assert main(["pressure", "-c", str(path)]) == 2
    assert "bonds: 'IEF' is not one of the instruments (SPX)" in capsys.readouterr().err


def test_the_default_file_checks_the_quarter_end_fade_too(capsys):
    # config/pressure.yaml: playbooks [backtest.yaml, quarter_end.yaml]; quarter_end_fade sells the
    # 2015-12-23 open, while december_fade's year-to-date drift is too small that year
    report = run_json(capsys, "--date", "2015-12-22")
    rows = {p["name"]: p for p in report["playbooks"]}
    assert list(rows) == ["december_fade", "january_snapback", "vwap_close_fade", "quarter_end_fade"]
    assert rows["quarter_end_fade"]["would_trigger"]
    assert rows["december_fade"]["waits_on"] == ["year-to-date drift of 60%/40%, pts"]
    only = run_json(capsys, "--date", "2015-12-22", "--playbooks", "config/quarter_end.yaml")
    assert [p["name"] for p in only["playbooks"]] == ["quarter_end_fade"]
