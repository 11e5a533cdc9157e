"""Data files that would be misread, or that crashed deep inside: refused with the file and line, exit 2."""
import gzip

import pytest

from hardening_probe import assert_one_clean_error, run_cli

CONFIG = """name: t
strategies:
  - name: january_snapback
    symbol: COMP
    data: DATA
"""
HEADER = "Date,Open,High,Low,Close,Volume"


def rows(first_year=2015, count=300):
    """Weekday daily bars from January ``first_year``: plausible, valid, enough for the ATR."""
    import datetime as dt

    day, out = dt.date(first_year, 1, 2), []
    while len(out) < count:
        if day.weekday() < 5:
            out.append(f"{day},100,101,99,100,1000")
        day += dt.timedelta(days=1)
    return out


def csv_text(lines):
    return "\n".join([HEADER, *lines]) + "\n"


def backtest(tmp_path, capsys, monkeypatch, data: bytes | str, name="d.csv", source=None):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    (tmp_path / "c.yaml").write_text(CONFIG.replace("DATA", source or name))
    code, _, err, made = run_cli(["backtest", "-c", "c.yaml"], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert made == set(), made   # refused before anything is written
    return message


@pytest.mark.parametrize("data, expected", [
    (b"\x1f\x8b\x08\x00garbage", "not a readable gzip file"),
    (gzip.compress(csv_text(rows()).encode())[:700], "not a readable gzip file"),     # cut short
    (csv_text(rows()).encode(), "not a readable gzip file"),                        # not compressed at all
])
def test_damaged_gzip_files(data, expected, tmp_path, capsys, monkeypatch):
    assert expected in backtest(tmp_path, capsys, monkeypatch, data, name="d.csv.gz")


@pytest.mark.parametrize("fmt", ["%Q", "%Y-%m-%d %", "%Y-%!"])
def test_a_date_format_that_is_not_one(fmt, tmp_path, capsys, monkeypatch):
    message = backtest(tmp_path, capsys, monkeypatch, csv_text(rows()),
                       source=f"{{path: d.csv, date_format: '{fmt}'}}")
    assert "data.date_format" in message and "not a date format" in message


@pytest.mark.parametrize("row, line", [(5, 7), (120, 122), (299, 301)])
def test_an_unquoted_decimal_comma_on_any_row_names_that_line(row, line, tmp_path, capsys, monkeypatch):
    lines = rows()
    lines[row] = lines[row].replace(",100,", ",100,5,", 1)   # 100,5 written with a decimal comma
    message = backtest(tmp_path, capsys, monkeypatch, csv_text(lines))
    assert f"line {line}:" in message and "decimal comma" in message


@pytest.mark.parametrize("first, expected", [
    ("1700-01-04", "before 1990-01-01"), ("1985-06-03", "before 1990-01-01"), ("1989-12-29", "before 1990-01-01")])
def test_bars_the_calendar_cannot_place(first, expected, tmp_path, capsys, monkeypatch):
    message = backtest(tmp_path, capsys, monkeypatch, csv_text([f"{first},100,101,99,100,1000", *rows()]))
    assert expected in message and "set start: 2015-01-02" in message


@pytest.mark.parametrize("last", ["2300-01-04", "2099-06-01", "2200-12-31"])
def test_bars_in_the_future(last, tmp_path, capsys, monkeypatch):
    message = backtest(tmp_path, capsys, monkeypatch, csv_text([*rows(), f"{last},100,101,99,100,1000"]))
    assert "after today" in message


@pytest.mark.parametrize("price", ["0.00001", "1e-12", "5e-300"])
def test_implausibly_small_prices(price, tmp_path, capsys, monkeypatch):
    lines = rows()
    day = lines[40].split(",")[0]
    lines[40] = f"{day},{price},101,{price},100,1000"
    message = backtest(tmp_path, capsys, monkeypatch, csv_text(lines))
    assert "line 42:" in message and "not a plausible price (below 0.0001)" in message


@pytest.mark.parametrize("header", [",".join(f"col{i}" for i in range(900)), "x" * 5000 + ",Open"])
def test_a_long_header_is_listed_short(header, tmp_path, capsys, monkeypatch):
    fields = header.count(",") + 1
    message = backtest(tmp_path, capsys, monkeypatch, header + "\n" + ",".join(["1"] * fields) + "\n")
    assert "missing column(s)" in message and len(message) < 700


@pytest.mark.parametrize("cell", ["x" * 5000, "2018-13-45 " + "9" * 400])
def test_a_long_date_cell_is_cut(cell, tmp_path, capsys, monkeypatch):
    message = backtest(tmp_path, capsys, monkeypatch, csv_text([f"{cell},100,101,99,100,1000", *rows()]))
    assert "line 2: cannot read date" in message and len(message) < 700


def test_too_short_for_a_filter_warm_up(tmp_path, capsys, monkeypatch):
    """The rotation filter's look-back (10 sessions) on 6 bars crashed inside backtrader with an IndexError."""
    code, _, err, made = run_cli(["backtest", "-c", _repo_config("quarter_end.yaml"), "--strategy", "quarter_end_fade",
                                  "--start", "2013-01-24", "--end", "2013-01-31",
                                  "--set", "strategies.quarter_end_fade.params.atr_period=2"],
                                 tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert "6 daily bar(s)" in message and "sessions 10" in message
    assert made == set()


def _repo_config(name):
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / "config" / name


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "missing", "too large", "unreadable", "under a file"])
def test_data_files_checked_for_kind_and_size_before_reading(kind, tmp_path, capsys, monkeypatch):
    import os

    from runner import inputs

    path = {"device": "/dev/zero", "under a file": "afile/bars.csv"}.get(kind, "bars.csv")
    (tmp_path / "afile").write_text("x")
    if kind == "fifo":
        os.mkfifo(tmp_path / "bars.csv")
    elif kind == "folder":
        (tmp_path / "bars.csv").mkdir()
    elif kind in ("too large", "unreadable"):
        (tmp_path / "bars.csv").write_text(csv_text(rows()))
    if kind == "too large":
        monkeypatch.setattr(inputs, "MAX_DATA_BYTES", 1000)
        monkeypatch.setattr("runner.data.files.MAX_DATA_BYTES", 1000)
        monkeypatch.setattr("runner.backtest.selection.MAX_DATA_BYTES", 1000)
    if kind == "unreadable":   # as root every file is readable: the permission check is simulated
        monkeypatch.setattr(inputs.os, "access", lambda p, mode: False)
    (tmp_path / "c.yaml").write_text(CONFIG.replace("DATA", "sample:nasdaq"))
    code, _, err, made = run_cli(["backtest", "-c", "c.yaml", "--data", path], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)   # a FIFO or /dev/zero would hang if it were opened
    expected = {"fifo": "FIFO", "device": "is a device", "folder": "is a folder", "missing": "no such data file",
                "too large": "KB; a data file is at most", "unreadable": "permission denied",
                "under a file": "a part of the path is a file"}[kind]
    assert expected in message, message
    assert made == set()


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "unreadable", "too large"])
def test_config_files_checked_for_kind_and_size_before_reading(kind, tmp_path, capsys, monkeypatch):
    import os

    from runner import inputs

    path = "/dev/zero" if kind == "device" else "c.yaml"
    if kind == "fifo":
        os.mkfifo(tmp_path / "c.yaml")
    elif kind == "folder":
        (tmp_path / "c.yaml").mkdir()
    else:
        (tmp_path / "c.yaml").write_text(CONFIG.replace("DATA", "sample:nasdaq") + "#" * 3000 + "\n")
    if kind == "unreadable":
        monkeypatch.setattr(inputs.os, "access", lambda p, mode: False)
    if kind == "too large":
        monkeypatch.setattr("runner.config_files.MAX_CONFIG_BYTES", 2000)
    code, _, err, made = run_cli(["config", "check", path], tmp_path, capsys, monkeypatch)
    expected = {"fifo": "FIFO", "device": "is a device", "folder": "is a folder", "unreadable": "permission denied",
                "too large": "a config file is at most"}[kind]
    assert expected in assert_one_clean_error(code, err)
    assert made == set()


VWAP_CONFIG = """name: t
strategies:
  - name: vwap_close_fade
    symbol: SPY
    data: m.csv
"""


@pytest.mark.parametrize("zero", ["everywhere", "in the window", "as 0.0"])
def test_zero_volume_for_the_volume_weighted_playbook(zero, tmp_path, capsys, monkeypatch):
    import datetime as dt

    from runner.data.intraday_sample import synthetic_minute_bars

    bars = synthetic_minute_bars(dt.date(2018, 12, 3), dt.date(2018, 12, 31), seed=4)
    if zero == "in the window":
        bars.loc[bars.index >= "2018-12-17", "volume"] = 0
    else:
        bars["volume"] = 0.0 if zero == "as 0.0" else 0
    frame = bars.copy()
    frame.index = frame.index.strftime("%Y-%m-%d %H:%M:%S")
    frame.index.name = "Datetime"
    frame.to_csv(tmp_path / "m.csv")
    (tmp_path / "c.yaml").write_text(VWAP_CONFIG)
    args = ["backtest", "-c", "c.yaml"] + (["--start", "2018-12-17"] if zero == "in the window" else [])
    code, _, err, made = run_cli(args, tmp_path, capsys, monkeypatch)
    assert "has zero volume" in assert_one_clean_error(code, err)   # not a quiet "0 trades, exit 0"
    assert made == set()


@pytest.mark.parametrize("text, value", [("1.229,23", 1229.23), ("1229,23", 1229.23), ("12,5", 12.5)])
def test_decimal_commas_are_read_only_when_the_file_says_so(text, value, tmp_path):
    from runner.data.files import read_csv_bars
    from runner.errors import DataError

    path = tmp_path / "d.csv"
    prices = ",".join(f'"{text}"' for _ in range(4))
    path.write_text(f"Date,Open,High,Low,Close,Volume\n2018-01-02,{prices},100\n")
    with pytest.raises(DataError, match="decimal comma"):
        read_csv_bars(path)   # never 122923
    assert read_csv_bars(path, decimal=",")["close"].iloc[0] == pytest.approx(value)


@pytest.mark.parametrize("row", [0, 5, 299])
def test_a_missing_time_in_parquet_names_its_row(row, tmp_path, capsys, monkeypatch):
    import pandas as pd

    from runner.data.sample import load_sample

    bars = load_sample("nasdaq").loc["2015":"2016"].iloc[:300]
    times = bars.index.tz_localize(None).to_series()
    times.iloc[row] = pd.NaT
    bars.index = pd.DatetimeIndex(times, name="time")
    bars.to_parquet(tmp_path / "d.parquet")
    (tmp_path / "c.yaml").write_text(CONFIG.replace("DATA", "d.parquet"))
    code, _, err, made = run_cli(["backtest", "-c", "c.yaml"], tmp_path, capsys, monkeypatch)
    assert f"row {row + 1}: the time is missing" in assert_one_clean_error(code, err)
    assert made == set()


@pytest.mark.parametrize("header, expected", [
    ("Date,Open,High,Low,Close,Volume,Close", "the column 'Close' appears twice"),
    ("Date,Open,High,Low,Close,Volume,close", "columns 'Close' and 'close' both read as close"),
    ("Date,Open,High,Low,Close,Volume,Adj Close,adj_close", "both read as adj_close"),
    ("Date,Date,Open,High,Low,Close,Volume", "the column 'Date' appears twice"),
])
def test_two_columns_for_one_field_are_refused(header, expected, tmp_path, capsys, monkeypatch):
    extra = header.count(",") - HEADER.count(",")
    lines = [row + ",100" * extra for row in rows()] if not header.startswith("Date,Date") else \
        [row.split(",")[0] + "," + row for row in rows()]
    message = backtest(tmp_path, capsys, monkeypatch, "\n".join([header, *lines]) + "\n")
    assert expected in message, message
