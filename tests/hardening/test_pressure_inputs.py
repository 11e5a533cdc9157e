"""flowbot pressure: --set errors name the option, --html paths checked before the data is read."""
import pytest

from hardening_probe import assert_one_clean_error, run_cli


@pytest.mark.parametrize("setting, expected", [
    ("aum=-1", "must be > 0"), ("aum=.inf", "finite"), ("mixes=[2]", "between 0 and 1"),
    ("nokey=1", "unknown key"), ("aum=yes", "not true"), ("equity=NOPE", "not one of the instruments"),
    # a signal's key: the error's place carries the signal's kind (signals[0].rotation.sessions)
    ("signals.0.sessions=-1", "must be >= 1"), ("signals.0.sessions=abc", "whole number"),
    ("signals.1.lookback=0", "must be >= 1"), ("signals.1.min_ratio=.nan", "finite"),
    ("signals.0.max_pct=yes", "not true"),
])
def test_set_errors_name_the_option(setting, expected, tmp_path, capsys, monkeypatch):
    code, _, err, made = run_cli(["pressure", "--set", setting], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert message.startswith(f"error: --set {setting}") and expected in message, message
    assert "(line" not in message
    assert made == set()


@pytest.mark.parametrize("html, expected", [
    ("afile/page.html", "afile is a file, not a folder"), (".", "is a folder"), ("sub", "is a folder"),
    ("/dev/null", "not a regular file"),
])
def test_html_paths_that_cannot_be_written(html, expected, tmp_path, capsys, monkeypatch):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "sub").mkdir()
    code, out, err, made = run_cli(["pressure", "--html", html], tmp_path, capsys, monkeypatch)
    assert expected in assert_one_clean_error(code, err)
    assert out == ""   # refused before the report is computed
    assert made == set()


def test_html_is_written_whole(tmp_path, capsys, monkeypatch):
    code, out, err, made = run_cli(["pressure", "--date", "2018-12-21", "--html", "new/page.html"],
                                   tmp_path, capsys, monkeypatch)
    assert code == 0, err
    assert made == {"new", "new/page.html"}
    assert (tmp_path / "new" / "page.html").read_text().rstrip().endswith("</html>")


@pytest.mark.parametrize("extra_row, date, expected", [
    ("2999-01-04,1,1,1,1,1", None, "after today"),
    ("2999-01-04,1,1,1,1,1", "2999-01-04", "argument --date: expected a date from 1990-01-01"),
    ("1985-01-02,1,1,1,1,1", "1985-01-02", "argument --date: expected a date from 1990-01-01"),
    ("1989-06-01,1,1,1,1,1", "1989-06-30", "argument --date: expected a date from 1990-01-01"),
])
def test_dates_the_calendar_cannot_count(extra_row, date, expected, tmp_path, capsys, monkeypatch):
    from runner.data.sample import load_sample

    bars = load_sample("sp500")
    frame = bars.drop(columns=[c for c in bars.columns if c not in ("open", "high", "low", "close", "volume")])
    frame.index = frame.index.strftime("%Y-%m-%d")
    frame.index.name = "Date"
    lines = frame.to_csv().splitlines()
    rows = [extra_row, *lines[1:]] if extra_row < lines[1] else [*lines[1:], extra_row]
    (tmp_path / "spx.csv").write_text("\n".join([lines[0], *rows]) + "\n")
    (tmp_path / "p.yaml").write_text("instruments: {SPX: spx.csv}\nequity: SPX\n")
    args = ["pressure", "-c", "p.yaml"] + (["--date", date] if date else [])
    code, _, err, made = run_cli(args, tmp_path, capsys, monkeypatch)
    assert expected in assert_one_clean_error(code, err)
    assert made == set()
