"""Times the run log stamps: the cheap New York conversion gives what tz_localize gives."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from runner.backtest import recorder
from strategies import market_calendar as cal


def test_new_york_equals_tz_localize_across_years_and_dst_changes():
    rng = np.random.default_rng(3)
    days = [dt.date(1999, 1, 4) + dt.timedelta(days=int(d)) for d in rng.integers(0, 9000, 400)]
    days += [dt.date(2019, 3, 10), dt.date(2019, 3, 11), dt.date(2019, 11, 3), dt.date(2019, 11, 4)]
    for day in days:
        for minute in (0, 9 * 60 + 30, 12 * 60 + 59, 15 * 60 + 59, 16 * 60, 23 * 60 + 59):
            stamp = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
            recorder._new_york.cache_clear()
            got = recorder._new_york(stamp)
            want = pd.Timestamp(stamp).tz_localize(cal.NEW_YORK)
            assert got == want and got.isoformat() == want.isoformat() and str(got.tz) == str(want.tz)
            assert got.unit == want.unit


def test_moc_cutoff_remembered_is_the_rule():
    for day in cal.sessions_between(dt.date(2009, 12, 20), dt.date(2010, 1, 8)) + [dt.date(2019, 11, 29)]:
        for venue in ("NYSE", "nasdaq"):
            first, again = cal.moc_cutoff(day, venue), cal.moc_cutoff(day, venue)
            assert first == again
            minutes = cal.moc_minutes_before_close(day, venue)
            assert cal.session_close(day) - first == pd.Timedelta(minutes=minutes)
    assert cal.moc_cutoff(dt.date(2009, 12, 31)).strftime("%H:%M") == "15:50"
    assert cal.moc_cutoff(dt.date(2010, 1, 4)).strftime("%H:%M") == "15:45"
    assert cal.moc_cutoff(dt.date(2019, 11, 29)).strftime("%H:%M") == "12:50"   # early close
    assert cal.moc_cutoff(dt.date(2019, 4, 15), "NASDAQ").strftime("%H:%M") == "15:55"
    try:
        cal.moc_cutoff(dt.date(2019, 4, 15), "lse")
    except ValueError as exc:
        assert "unknown venue 'lse'" in str(exc)
    else:
        raise AssertionError("an unknown venue must be refused")
