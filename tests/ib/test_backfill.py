"""Backfill: chunked by IB's largest duration per bar size, completed bars only, mid-bar starts."""
import asyncio
import datetime as dt
from types import SimpleNamespace

import pandas as pd

from runner.errors import GatewayError
from runner.ib import backfill
from runner.ib.bars import BarSize
from runner.ib.sessions import NEW_YORK, Sessions

UTC = dt.timezone.utc


def daily_history(days):
    """A fake reqHistoricalData over daily bars: serves at most one year before ``end``."""
    calls = []

    async def history(contract, end, duration, bar_size, format_date):
        calls.append((end, duration, bar_size))
        assert (duration, bar_size) == ("1 Y", "1 day")
        stop = days[-1] + dt.timedelta(days=1) if end == "" else end.astimezone(NEW_YORK).date()
        start = stop - dt.timedelta(days=365)
        return [SimpleNamespace(date=d, open=1, high=2, low=0.5, close=1.5, volume=10)
                for d in days if start <= d < stop]

    return history, calls


def test_daily_backfill_walks_back_in_one_year_chunks():
    sessions = Sessions()
    days = [d.date() for d in pd.bdate_range("2015-01-02", "2018-06-29") if sessions.is_session(d.date())]
    history, calls = daily_history(days)
    now = dt.datetime(2018, 6, 29, 17, 0, tzinfo=NEW_YORK)
    bars = asyncio.run(backfill.fetch(history, None, BarSize(), 300, now, sessions))
    assert len(bars) == 300
    assert bars[-1].time == dt.datetime(2018, 6, 29, tzinfo=NEW_YORK)
    assert [b.time for b in bars] == sorted({b.time for b in bars})
    assert len(calls) == 2


def test_the_bar_in_progress_is_not_backfilled():
    sessions = Sessions()
    days = [dt.date(2018, 6, 28), dt.date(2018, 6, 29)]
    history, _ = daily_history(days)
    now = dt.datetime(2018, 6, 29, 12, 0, tzinfo=NEW_YORK)
    bars = asyncio.run(backfill.fetch(history, None, BarSize(), 10, now, sessions))
    assert [b.time.date() for b in bars] == [dt.date(2018, 6, 28)]


def test_request_shapes_follow_ib_limits():
    assert backfill.request_shape(BarSize()) == ("1 Y", "1 day")
    assert backfill.request_shape(BarSize(1)) == ("1 D", "1 min")
    assert backfill.request_shape(BarSize(5)) == ("1 W", "5 mins")
    assert backfill.request_shape(BarSize(30)) == ("1 M", "30 mins")


def test_mid_session_start_seeds_from_minute_bars_or_skips():
    sessions = Sessions()
    now = dt.datetime(2018, 6, 29, 10, 0, 30, tzinfo=NEW_YORK)

    async def minutes(contract, end, duration, bar_size, format_date):
        assert bar_size == "1 min"
        t = dt.datetime(2018, 6, 29, 9, 30, tzinfo=NEW_YORK)
        out = []
        while t < now:
            out.append(SimpleNamespace(date=t.astimezone(UTC), open=1, high=2, low=0.5, close=1.5, volume=10))
            t += dt.timedelta(minutes=1)
        return out

    start, seed = asyncio.run(backfill.current_period(minutes, None, BarSize(), now, sessions))
    assert start == dt.datetime(2018, 6, 29, 9, 30, tzinfo=NEW_YORK)
    assert len(seed) == 31 and seed[0].time == start

    async def refuses(*args):
        raise GatewayError("error 162: cannot make bars finer than the dataset's")

    start, seed = asyncio.run(backfill.current_period(refuses, None, BarSize(), now, sessions))
    assert seed == [] and start is not None
    after_close = dt.datetime(2018, 6, 29, 17, tzinfo=NEW_YORK)
    assert asyncio.run(backfill.current_period(refuses, None, BarSize(), after_close, sessions)) == (None, [])
