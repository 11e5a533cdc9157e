"""The NYSE session table kept on disk: read back, it is what exchange_calendars says; a damaged file is rebuilt."""
from __future__ import annotations

import datetime as dt

import exchange_calendars as xcals
import pytest

from strategies import market_calendar as cal


def _forget():
    for cached in (cal._session_table, cal._session_dates, cal._session_index, cal._close_ny, cal.sessions_of_month,
                   cal.monthly_opex_session, cal._moc_cutoff, cal._minutes_before):
        cached.cache_clear()


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    monkeypatch.setenv(cal.CACHE_ENV, str(tmp_path))
    _forget()
    yield tmp_path
    _forget()


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


def test_empty_setting_keeps_no_file(monkeypatch, tmp_path):
    monkeypatch.setenv(cal.CACHE_ENV, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _forget()
    try:
        assert cal._cache_file() is None
        _same_as_library()
        assert not list(tmp_path.rglob("*.npz"))
    finally:
        _forget()
