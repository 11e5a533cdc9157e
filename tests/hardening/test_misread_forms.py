"""Values that were read as something the user did not mean, and files whose shape made a reader hang.

YAML 1.1 reads ``0777`` as 511, ``0x10`` as 16 and ``1:30`` as 90; a 5,000-digit number crashed int();
daily bars on a Saturday (dates read in the wrong format) ran quietly; a 50,000-column header took pandas
minutes. Each is refused with one message naming the key, the option or the line.
"""
from __future__ import annotations

import datetime as dt

import pytest

from hardening_probe import assert_one_clean_error, run_cli

CONFIG = """name: t
broker: {cash: CASH}
strategies:
  - name: january_snapback
    symbol: COMP
    data: DATA
"""


def daily_rows(count=300, first=dt.date(2015, 1, 2)):
    day, out = first, []
    while len(out) < count:
        if day.weekday() < 5:
            out.append(f"{day},{100 + len(out) % 7},{102 + len(out) % 7},{99 + len(out) % 7},{101 + len(out) % 7},1000")
        day += dt.timedelta(days=1)
    return out


def run(tmp_path, capsys, monkeypatch, *, cash="100000", data="sample:nasdaq", lines=None, args=()):
    if lines is not None:
        (tmp_path / "d.csv").write_text("\n".join(["Date,Open,High,Low,Close,Volume", *lines]) + "\n")
        data = "d.csv"
    (tmp_path / "c.yaml").write_text(CONFIG.replace("CASH", cash).replace("DATA", data))
    return run_cli(["backtest", "-c", "c.yaml", *args], tmp_path, capsys, monkeypatch)


@pytest.mark.parametrize("cash, form", [("0777", "octal"), ("0x186A0", "hexadecimal"), ("0b1010", "binary"),
                                        ("27:46:40", "sexagesimal"), ("1:30.5", "sexagesimal"),
                                        ("-0o17", None), ("9" * 5000, "5,000 digits")])
def test_number_forms_yaml_would_misread_are_refused_with_their_line(cash, form, tmp_path, capsys, monkeypatch):
    code, _, err, made = run(tmp_path, capsys, monkeypatch, cash=cash)
    message = assert_one_clean_error(code, err)
    assert "c.yaml" in message and "line 2" in message and (form is None or form in message), message
    assert made == set() and len(message) < 400


@pytest.mark.parametrize("value, form", [("0777", "octal"), ("0x10", "hexadecimal"), ("1:30", "sexagesimal"),
                                         ("7" * 4400, "4,400 digits"), ("0b11", "binary")])
def test_number_forms_in_set_name_the_option(value, form, tmp_path, capsys, monkeypatch):
    code, _, err, made = run(tmp_path, capsys, monkeypatch, args=["--set", f"broker.cash={value}"])
    message = assert_one_clean_error(code, err)
    assert message.startswith("error: --set broker.cash=") and form in message and len(message) < 400, message


@pytest.mark.parametrize("cash", ["0.5", "1e-300", "5e-5"])
def test_cash_that_buys_nothing_is_refused(cash, tmp_path, capsys, monkeypatch):
    code, _, err, _ = run(tmp_path, capsys, monkeypatch, cash=cash)
    assert "broker.cash" in assert_one_clean_error(code, err)


@pytest.mark.parametrize("plain", ["100000", "1_000_000", "0", "2.5", "-7"])
def test_plain_numbers_still_read(plain, tmp_path):
    from runner.config_files import parse_yaml_text

    assert parse_yaml_text(f"x: {plain}")[0]["x"] == float(plain.replace("_", ""))


@pytest.mark.parametrize("day, weekday", [("2015-03-07", "Saturday"), ("2015-06-14", "Sunday"), ("2016-01-02", "Saturday")])
def test_daily_bars_on_a_weekend_are_refused_naming_the_line(day, weekday, tmp_path, capsys, monkeypatch):
    lines = daily_rows()
    at = next(i for i, row in enumerate(lines) if row[:10] > day)
    lines.insert(at, f"{day},100,101,99,100,1000")
    code, _, err, made = run(tmp_path, capsys, monkeypatch, lines=lines)
    message = assert_one_clean_error(code, err)
    assert f"line {at + 2}:" in message and weekday in message and made == set(), message


def test_daily_bars_on_a_holiday_are_said_and_kept(tmp_path, capsys, monkeypatch):
    lines = daily_rows()     # weekdays only: New Year's Day, MLK day, ... are in it
    code, _, err, _ = run(tmp_path, capsys, monkeypatch, lines=lines)
    assert code == 0, err
    assert "2015-01-19, when NYSE was closed" in err and "line 13:" in err


@pytest.mark.parametrize("factor", [1000.0, 0.01, 6.0])
def test_a_price_that_jumps_is_said_with_its_line(factor, tmp_path, capsys, monkeypatch):
    lines = daily_rows()
    day = lines[100][:10]
    price = 101 * factor
    lines[100] = f"{day},{price:.4f},{price * 1.01:.4f},{price * 0.99:.4f},{price:.4f},1000"
    code, _, err, _ = run(tmp_path, capsys, monkeypatch, lines=lines)
    assert code == 0, err
    assert "line 102: the price jumps" in err, err


@pytest.mark.parametrize("columns", [1500, 50_000])
def test_a_header_of_thousands_of_columns_is_refused_at_once(columns, tmp_path, capsys, monkeypatch):
    lines = [row + ",1" * columns for row in daily_rows(40)]
    (tmp_path / "d.csv").write_text("Date,Open,High,Low,Close,Volume" + ",x" * columns + "\n" + "\n".join(lines))
    (tmp_path / "c.yaml").write_text(CONFIG.replace("CASH", "1000").replace("DATA", "d.csv"))
    code, _, err, _ = run_cli(["backtest", "-c", "c.yaml"], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert "line 1" in message and "columns" in message and len(message) < 400, message
