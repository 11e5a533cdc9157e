"""What a second hostile-user probe of the CLI found (issue 12), each class with several inputs.

A date format the fast CSV reader ignored (ISO dates were read as ISO whatever ``--date-format`` said, so
``2005-03-01`` under ``%Y-%d-%m`` became 1 March); ``decimal: ','`` on a file of ``.`` decimals (99.27 read as
9927); a date format with a code twice (a crash in ``re``).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hardening_probe import assert_one_clean_error, run_cli
from runner.data.files import read_csv_bars

HEADER = "Date,Open,High,Low,Close,Volume"


def daily_rows(count=300, first=dt.date(2005, 1, 3)):
    day, out = first, []
    while len(out) < count:
        if day.weekday() < 5:
            price = 100 + len(out) % 7 + 0.25
            out.append(f"{day},{price},{price + 1},{price - 1},{price},1000")
        day += dt.timedelta(days=1)
    return out


def backtest(tmp_path, capsys, monkeypatch, text, *args):
    (tmp_path / "d.csv").write_text(text)
    return run_cli(["backtest", "--strategy", "january_snapback", "--data", "d.csv", *args], tmp_path, capsys,
                   monkeypatch)


# -- the date format is the only reader of the time column ----------------------------------------------

@pytest.mark.parametrize("fmt", ["%Y-%d-%m", "%d/%m/%Y", "%Y", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S", "epoch_us"])
def test_a_date_format_that_does_not_read_iso_dates_is_not_bypassed(fmt, tmp_path, capsys, monkeypatch):
    text = "\n".join([HEADER, *daily_rows()]) + "\n"
    code, _, err, made = backtest(tmp_path, capsys, monkeypatch, text, "--date-format", fmt)
    message = assert_one_clean_error(code, err)
    assert "d.csv" in message and "line " in message and fmt in message, message
    assert made == set()


def test_iso_looking_dates_are_read_by_the_format_given(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(f"{HEADER}\n2005-03-01,1,1,1,1,1\n2005-04-01,1,1,1,1,1\n2005-05-01,1,1,1,1,1\n")
    days = [t.date() for t in read_csv_bars(path, date_format="%Y-%d-%m").index]
    assert days == [dt.date(2005, 1, 3), dt.date(2005, 1, 4), dt.date(2005, 1, 5)]
    # the format that matches the file still reads it (and still through the fast reader's result)
    assert [t.date() for t in read_csv_bars(path, date_format="%Y-%m-%d").index][0] == dt.date(2005, 3, 1)


@pytest.mark.parametrize("fmt", ["%Y-%m-%Y", "%d/%d/%Y", "%Y" * 50, "%H:%M %H"])
def test_a_date_format_with_a_code_twice_is_refused(fmt, tmp_path, capsys, monkeypatch):
    code, _, err, made = backtest(tmp_path, capsys, monkeypatch, "\n".join([HEADER, *daily_rows(20)]) + "\n",
                                  "--date-format", fmt)
    message = assert_one_clean_error(code, err)
    assert "a code appears twice" in message and "d.csv" in message, message
    assert made == set()


# -- decimal: ',' does not swallow decimal points -------------------------------------------------------

@pytest.mark.parametrize("value", ["99.27", "1229.5", "0.5", "1.2345", "12.3,5"])
def test_decimal_comma_refuses_a_decimal_point(value, tmp_path, capsys, monkeypatch):
    rows = [r.replace(",", ";") for r in daily_rows(30)]
    rows = [r.replace(".", ",") for r in rows]   # a decimal-comma file ...
    fields = rows[7].split(";")
    fields[4] = value                             # ... with one value written with a point
    rows[7] = ";".join(fields)
    (tmp_path / "d.csv").write_text("\n".join([HEADER.replace(",", ";"), *rows]) + "\n")
    (tmp_path / "c.yaml").write_text("strategies:\n  - name: january_snapback\n    symbol: IWM\n"
                                     "    data: {path: d.csv, delimiter: ';', decimal: ','}\n")
    code, _, err, made = run_cli(["backtest", "-c", "c.yaml"], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert "line 9" in message and "close" in message and value in message and "decimal" in message, message
    assert made == set()


def test_decimal_comma_still_reads_thousands_points(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("Date;Open;High;Low;Close;Volume\n2005-03-01;1.229,5;1.300;1.100,25;1.229;1.000\n"
                    "2005-03-02;1.230;1.300;1.100;1.231,75;12\n")
    bars = read_csv_bars(path, delimiter=";", decimal=",")
    assert bars["open"].tolist() == [1229.5, 1230.0] and bars["close"].tolist() == [1229.0, 1231.75]
    assert bars["volume"].tolist() == [1000.0, 12.0]


# -- past run folders: damaged files refused by name, never a crash ------------------------------------

RUN = "20240101-000000-backtest-x"


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """One backtest's run folder, copied into each test that damages it."""
    from runner.cli import main
    import os

    folder = tmp_path_factory.mktemp("real")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        assert main(["backtest", "--strategy", "december_fade", "--out", f"logs/{RUN}", "-q"]) == 0
    finally:
        os.chdir(cwd)
    return folder / "logs" / RUN


def damaged_copy(real_run, tmp_path, name=RUN):
    import shutil

    target = tmp_path / "logs" / name
    shutil.copytree(real_run, target)
    return target


METRICS_GARBAGE = {
    "not json": "{", "a list": "[]", "a number": "5", "null": "null", "NaN": '{"playbooks": NaN}',
    "Infinity": '{"playbooks": {}, "x": Infinity}', "1e400": '{"playbooks": {}, "x": 1e400}',
    "nested 100000 deep": "[" * 100_000 + "]" * 100_000, "bad bytes": b"\xff\xfe{}",
    "playbooks a number": '{"playbooks": 5}', "a playbook as text": '{"playbooks": {"december_fade": "x"}}',
    "performance as text": '{"playbooks": {"december_fade": {"performance": "x"}}}',
    "sections null": '{"playbooks": {"december_fade": {"performance": null, "sample": null}}}',
    "markup in a name": '{"playbooks": {"[bold]x[/": {"performance": {"trades": "[/]"}}}}',
}


@pytest.mark.parametrize("command", ["show", "show --json", "compare"])
@pytest.mark.parametrize("kind", list(METRICS_GARBAGE))
def test_a_damaged_metrics_file_is_refused_naming_it(kind, command, real_run, tmp_path, capsys, monkeypatch):
    folder = damaged_copy(real_run, tmp_path)
    damaged_copy(real_run, tmp_path, "20240101-000001-backtest-y")
    text = METRICS_GARBAGE[kind]
    (folder / "metrics.json").write_bytes(text if isinstance(text, bytes) else text.encode())
    args = {"show": ["show", RUN], "show --json": ["show", RUN, "--json"],
            "compare": ["compare", RUN, "20240101-000001-backtest-y"]}[command]
    code, out, err, made = run_cli(args, tmp_path, capsys, monkeypatch)
    if code == 0:   # compare shows what it can of a foreign shape (sections it cannot read as none); --json
        assert command != "show" and kind in ("playbooks a number", "a playbook as text", "performance as text",
                                                 "sections null", "markup in a name"), (kind, out)
        assert "Traceback" not in err and made == set()
        return
    message = assert_one_clean_error(code, err)
    assert "metrics.json" in message and made == set() and out == "", (kind, message, out)


@pytest.mark.parametrize("what, text", [("config.resolved.yaml", ":::\n\t-"), ("config.resolved.yaml", "a: [1"),
                                        ("config.resolved.yaml", "[" * 5000), ("optimize.json", "{"),
                                        ("optimize.json", "[" * 100_000)])
def test_a_damaged_run_file_beside_the_metrics_is_refused(what, text, real_run, tmp_path, capsys, monkeypatch):
    folder = damaged_copy(real_run, tmp_path)
    damaged_copy(real_run, tmp_path, "20240101-000001-backtest-y")
    (folder / what).write_text(text)
    for args in (["show", RUN], ["compare", RUN, "20240101-000001-backtest-y"]):
        code, out, err, made = run_cli(args, tmp_path, capsys, monkeypatch)
        message = assert_one_clean_error(code, err)
        assert what in message and made == set(), message


@pytest.mark.parametrize("special", ["fifo", "device", "folder", "too large"])
def test_a_special_file_in_place_of_a_sweeps_results_is_refused(special, tmp_path, monkeypatch):
    """results.csv is read back by show and --resume: a FIFO there hung the reader, /dev/zero filled memory."""
    import os

    from runner.errors import UserInputError
    from runner.optimize import results_file

    results = tmp_path / "results.csv"
    if special == "too large":
        results.write_text("run,seconds\n")
        monkeypatch.setattr(results_file, "MAX_DATA_BYTES", 5)
    else:
        {"fifo": lambda: os.mkfifo(results), "device": lambda: os.symlink("/dev/zero", results),
         "folder": results.mkdir}[special]()
    with pytest.raises(UserInputError, match="results.csv: is|results.csv: cannot") as caught:
        results_file.read_results(results)
    assert "results file" in str(caught.value)


@pytest.mark.parametrize("text", ["[" * 100_000, '{"sweep": "s.yaml", "fingerprint": NaN}', "\xff"])
def test_resume_refuses_a_state_no_sweep_writes(text, tmp_path, capsys, monkeypatch):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "optimize.json").write_text(text, errors="surrogateescape")
    code, _, err, made = run_cli(["optimize", "--resume", "r"], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert "--resume r" in message and "optimize.json is damaged" in message and made == set(), message


# -- an empty path is not the current folder ---------------------------------------------------------

@pytest.mark.parametrize("args, option", [
    (["backtest", "--out", ""], "--out"), (["backtest", "--out", "  "], "--out"),
    (["backtest", "--data", ""], "--data"), (["new", "playbook", "mine", "--folder", "", "--no-golden"], "--folder"),
    (["show", "--runs", ""], "--runs"), (["optimize", "--resume", " "], "--resume"),
    (["optimize", "-c", "\t"], "--config"), (["list", "--playbooks-path", ""], "--playbooks-path"),
    (["fetch", "--symbol", "SPY", "--start", "2024-01-02", "--cache", ""], "--cache"),
])
def test_an_empty_path_option_is_refused(args, option, tmp_path, capsys, monkeypatch):
    code, _, err, made = run_cli(args, tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert option in message and "expected a path" in message and made == set(), message


@pytest.mark.parametrize("key, value", [("output.folder", "''"), ("output.folder", "'   '"),
                                        ("data.cache_folder", "''"), ("playbooks_path", "''"),
                                        ("strategies.0.data", "{path: ''}")])
def test_an_empty_path_in_a_config_is_refused(key, value, tmp_path, capsys, monkeypatch):
    section, _, leaf = key.rpartition(".")
    body = {"output.folder": f"output: {{folder: {value}}}\n", "data.cache_folder": f"data: {{cache_folder: {value}}}\n",
            "playbooks_path": f"playbooks_path: {value}\n", "strategies.0.data": ""}[key]
    data = value if key == "strategies.0.data" else "sample:sp500"
    (tmp_path / "c.yaml").write_text(f"name: t\n{body}strategies:\n  - name: december_fade\n    symbol: SPX\n"
                                     f"    data: {data}\n")
    code, _, err, made = run_cli(["backtest", "-c", "c.yaml"], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert "c.yaml" in message and "expected a path" in message and made == set(), message


# -- compressed files other than gzip are refused by name -----------------------------------------------

@pytest.mark.parametrize("name, content", [
    ("x.zip", b"PK\x03\x04garbage"), ("x.bz2", b"BZh9garbage"), ("x.xz", b"\xfd7zXZ\x00garbage"),
    ("x.csv.zst", b"\x28\xb5\x2f\xfdgarbage"), ("x.CSV.BZ2", None), ("x.tar", b"x" * 600),
])
def test_a_compressed_file_other_than_gzip_is_refused_by_name(name, content, tmp_path, capsys, monkeypatch):
    import bz2

    text = "\n".join([HEADER, *daily_rows(30)]) + "\n"
    (tmp_path / name).write_bytes(content if content is not None else bz2.compress(text.encode()))
    code, _, err, made = run_cli(["backtest", "--strategy", "january_snapback", "--data", name], tmp_path, capsys,
                                 monkeypatch)
    message = assert_one_clean_error(code, err)
    assert name in message and "CSV (plain or .gz)" in message and made == set(), message


# -- sweeps that would run the same backtest more than once ---------------------------------------------

SWEEP_FILE = Path(__file__).resolve().parents[2] / "config" / "sweeps" / "december_fade.yaml"


@pytest.mark.parametrize("old, new, expected", [
    ("strategies.december_fade.params.stop_atr: [1.0, 1.5, 2.0, 2.5]",
     "strategies.january_snapback.params.stop_atr: [1.0, 2.0]", "which this sweep's runs leave out"),
    ("strategies.december_fade.params.stop_atr: [1.0, 1.5, 2.0, 2.5]",
     "strategies.december_fade.params.atr_period: {low: 5, high: 20, step: 1.5}", "the step must be one too"),
    ("strategies.december_fade.params.stop_atr: [1.0, 1.5, 2.0, 2.5]",
     "strategies.december_fade.params.atr_period: {low: 5, high: 9, step: 0.5}", "the step must be one too"),
    ("[1.0, 1.5, 2.0, 2.5]", "[1.0, 1.5, 1.5]", "listed twice"),
    ("[1.0, 1.5, 2.0, 2.5]", "[2.5, 1.0, 2.5]", "listed twice"),
    ("method: grid ", "method: grid\n  trials: 5\n ", "applies to method random or optuna"),
])
def test_a_sweep_that_repeats_runs_is_refused(old, new, expected, tmp_path, capsys, monkeypatch):
    text = SWEEP_FILE.read_text().replace("base: ../backtest.yaml", f"base: {SWEEP_FILE.parents[1] / 'backtest.yaml'}")
    assert old in text
    (tmp_path / "s.yaml").write_text(text.replace(old, new))
    for command in (["config", "check", "s.yaml"], ["optimize", "-c", "s.yaml", "--workers", "1"]):
        code, _, err, made = run_cli(command, tmp_path, capsys, monkeypatch)
        message = assert_one_clean_error(code, err)
        assert "s.yaml" in message and expected in message and made == set(), message


# -- new playbook: a name an existing module has could never be loaded ---------------------------------

@pytest.mark.parametrize("name", ["os", "sys", "json", "pandas", "runner", "strategies", "yaml", "math"])
def test_new_playbook_refuses_a_module_name(name, tmp_path, capsys, monkeypatch):
    code, _, err, made = run_cli(["new", "playbook", name, "--no-golden"], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert f"new playbook {name}" in message and "taken by the module" in message and made == set(), message


def test_new_playbook_takes_a_name_no_module_has(tmp_path, capsys, monkeypatch):
    code, out, err, made = run_cli(["new", "playbook", "my_probe_fade", "--no-golden"], tmp_path, capsys, monkeypatch)
    assert code == 0, err
    assert {"playbooks/my_probe_fade.py", "playbooks/my_probe_fade.yaml"} <= made
