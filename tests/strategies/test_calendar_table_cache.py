"""The NYSE session table: the one shipped with flowbot is what exchange_calendars says; one built from the library
is kept only where FLOWBOT_CALENDAR_CACHE says, read back equal, rebuilt when damaged; nothing else is written."""
from __future__ import annotations

import datetime as dt

import exchange_calendars as xcals
import numpy as np
import pytest

from strategies import calendar_table
from strategies import market_calendar as cal


def _forget():
    for cached in (cal._session_table, cal._session_dates, cal._session_index, cal._close_ny, cal.sessions_of_month,
                   cal.monthly_opex_session, cal._moc_cutoff, cal._minutes_before):
        cached.cache_clear()


@pytest.fixture
def no_shipped(monkeypatch, tmp_path):
    """As if the shipped table were absent (another exchange_calendars installed)."""
    monkeypatch.setattr(calendar_table, "SHIPPED", tmp_path / "absent.npz")
    _forget()
    yield
    _forget()


@pytest.fixture
def fresh(monkeypatch, tmp_path, no_shipped):
    monkeypatch.setenv(cal.CACHE_ENV, str(tmp_path / "kept"))
    yield tmp_path / "kept"


def _library_answer():
    calendar = xcals.get_calendar("XNYS", start=cal.CALENDAR_START, end=cal._calendar_end())
    closes = calendar.schedule["close"].dt.tz_convert(cal.NEW_YORK)
    return [d.date() for d in calendar.sessions], {d.date(): c for d, c in closes.items()}


def _same_as_library():
    days, closes = _library_answer()
    assert list(cal._session_dates()) == days
    for day in days[::97] + [dt.date(2019, 11, 29), dt.date(2001, 9, 10)]:
        mine = cal.session_close(day)
        assert mine == closes[day] and mine.isoformat() == closes[day].isoformat() and mine.unit == closes[day].unit
    assert not cal.is_session(dt.date(2001, 9, 11)) and not cal.is_session(dt.date(2019, 12, 25))


def test_the_shipped_table_is_the_installed_librarys_answer_over_its_whole_span():
    shipped = calendar_table.read(calendar_table.SHIPPED)
    assert shipped is not None, f"{calendar_table.SHIPPED} missing: run python -m strategies.calendar_table"
    assert shipped["library"] == calendar_table.library_version(), \
        "exchange_calendars changed: regenerate with python -m strategies.calendar_table"
    assert (shipped["start"], shipped["end"]) == (calendar_table.START, calendar_table.END)
    days, closes = calendar_table.build(calendar_table.START, calendar_table.END)
    assert np.array_equal(shipped["days"], days) and np.array_equal(shipped["closes"], closes)


def test_commands_use_the_shipped_table_and_answer_as_the_library(monkeypatch, tmp_path):
    monkeypatch.delenv(cal.CACHE_ENV, raising=False)
    built = []
    monkeypatch.setattr(calendar_table, "build", lambda *a: built.append(a))
    _forget()
    try:
        _same_as_library()
        assert not built, "the library was asked although the shipped table serves"
    finally:
        _forget()


def test_written_then_read_back_equal_to_the_library(fresh):
    _same_as_library()
    files = list(fresh.glob("xnys-*.npz"))
    assert len(files) == 1 and cal._cache_file() == files[0]
    _forget()
    _same_as_library()   # this time from the file


def test_a_damaged_file_is_built_again(fresh):
    cal._session_table()
    path = cal._cache_file()
    path.write_bytes(b"not a table")
    _forget()
    _same_as_library()
    _forget()
    _same_as_library()   # rewritten whole


def test_unset_keeps_no_file_anywhere(monkeypatch, tmp_path, no_shipped):
    monkeypatch.delenv(cal.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cal._cache_file() is None
    _same_as_library()
    assert not [p for p in tmp_path.rglob("*") if p.name != "absent.npz"]
