"""Known NYSE calendar facts the playbooks depend on."""
import datetime as dt

import pytest

from strategies import market_calendar as cal

# Third Fridays of December 1999-2018 (none fell on a holiday).
DEC_OPEX = {
    1999: 17, 2000: 15, 2001: 21, 2002: 20, 2003: 19, 2004: 17, 2005: 16,
    2006: 15, 2007: 21, 2008: 19, 2009: 18, 2010: 17, 2011: 16, 2012: 21,
    2013: 20, 2014: 19, 2015: 18, 2016: 16, 2017: 15, 2018: 21,
}


@pytest.mark.parametrize("year,day", sorted(DEC_OPEX.items()))
def test_december_opex_is_third_friday(year, day):
    assert cal.december_opex_session(year) == dt.date(year, 12, day)


def test_opex_on_holiday_moves_to_session_before():
    # Good Friday 2022-04-15 was the third Friday of April: expiration moved to Thursday.
    assert cal.monthly_opex_session(2022, 4) == dt.date(2022, 4, 14)


@pytest.mark.parametrize("day", [dt.date(1999, 12, 31), dt.date(2018, 12, 24)])
def test_early_closes_at_13(day):
    assert cal.is_early_close(day)
    assert cal.session_close(day).strftime("%H:%M %Z") == "13:00 EST"


@pytest.mark.parametrize("day", [dt.date(2007, 1, 2), dt.date(2018, 12, 5)])
def test_ad_hoc_closures_are_not_sessions(day):
    assert not cal.is_session(day)


def test_regular_close_is_16():
    assert cal.session_close(dt.date(2018, 12, 27)).strftime("%H:%M") == "16:00"
    assert not cal.is_early_close(dt.date(2018, 12, 27))


def test_nth_session_counts_sessions_not_days():
    assert cal.nth_session_of_month(2018, 12, -1) == dt.date(2018, 12, 31)
    assert cal.nth_session_of_month(2018, 12, -2) == dt.date(2018, 12, 28)
    assert cal.nth_session_of_month(2019, 1, 1) == dt.date(2019, 1, 2)
    # 2007-01-02 was closed (national day of mourning): 1st session is Jan 3.
    assert cal.nth_session_of_month(2007, 1, 1) == dt.date(2007, 1, 3)
    assert cal.nth_session_of_month(2007, 1, 5) == dt.date(2007, 1, 9)
    with pytest.raises(ValueError):
        cal.nth_session_of_month(2018, 12, 0)


def test_session_offset_and_position_in_month():
    assert cal.session_offset(dt.date(2018, 12, 21), 2) == dt.date(2018, 12, 26)
    assert cal.sessions_from_end_of_month(dt.date(2018, 12, 28)) == 2
    assert cal.session_number_in_month(dt.date(2019, 1, 3)) == 2


@pytest.mark.parametrize(
    "day,venue,expected",
    [
        (dt.date(2008, 12, 30), "NYSE", "15:50"),
        (dt.date(2015, 12, 30), "NYSE", "15:45"),
        (dt.date(2020, 12, 30), "NYSE", "15:50"),
        (dt.date(2018, 12, 24), "NYSE", "12:45"),
        (dt.date(2020, 12, 24), "NYSE", "12:50"),
        (dt.date(2019, 4, 12), "NASDAQ", "15:50"),
        (dt.date(2019, 4, 15), "NASDAQ", "15:55"),
    ],
)
def test_moc_cutoff_table(day, venue, expected):
    assert cal.moc_cutoff(day, venue).strftime("%H:%M") == expected


def test_sessions_among_agrees_with_the_one_day_functions():
    """Many days at once (the report's session spans, the window feed's equity rows) give the sessions,
    closes and opens that is_session, session_close and session_open give day by day: holidays,
    weekends, early closes, both DST changes and days outside the table among them."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    days = [dt.date(1989, 6, 1) + dt.timedelta(days=int(x)) for x in rng.integers(0, 14_000, 600)]
    days += [dt.date(2012, 11, 23), dt.date(2012, 12, 24), dt.date(2012, 12, 25), dt.date(2013, 3, 8),
             dt.date(2013, 3, 11), dt.date(2013, 11, 1), dt.date(2013, 11, 4), dt.date(2001, 9, 11)]
    sessions = sorted({d for d in days if cal.is_session(d)})
    got, closes = cal.sessions_among(np.array(days[::-1] + days, dtype="datetime64[D]"))
    assert list(got.astype(object)) == sessions
    assert dt.date(2001, 9, 11) not in sessions and dt.date(2012, 12, 24) in sessions
    want_closes = [cal.session_close(d).tz_convert("UTC").value for d in sessions]
    want_opens = [cal.session_open(d).tz_convert("UTC").value for d in sessions]
    assert closes.tolist() == want_closes
    assert cal.session_opens_ns(got).tolist() == want_opens
    assert pd.Timestamp(closes[sessions.index(dt.date(2012, 12, 24))], tz="UTC").tz_convert(
        cal.NEW_YORK).hour == 13
    assert cal.sessions_among(np.array([], dtype="datetime64[D]"))[0].size == 0


def test_are_sessions_is_is_session_for_every_day():
    # Weekends, holidays (2001-09-11..14, 2012-10-29..30 included), days before and after the table.
    days = [dt.date(1985, 1, 2) + dt.timedelta(days=i) for i in range((dt.date(2040, 1, 1) - dt.date(1985, 1, 2)).days)]
    import numpy as np

    found = cal.are_sessions(np.array(days, dtype="datetime64[D]"))
    assert found.tolist() == [cal.is_session(day) for day in days]
    assert found.sum() > 5000 and not found.all()
