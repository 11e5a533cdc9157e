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
    # 09:30..09:59 are complete; the 10:00 minute is in progress at 10:00:30 and streams live
    assert len(seed) == 30 and seed[0].time == start and seed[-1].time.minute == 59

    async def refuses(*args):
        raise GatewayError("error 162: cannot make bars finer than the dataset's")

    start, seed = asyncio.run(backfill.current_period(refuses, None, BarSize(), now, sessions))
    assert seed == [] and start is not None
    after_close = dt.datetime(2018, 6, 29, 17, tzinfo=NEW_YORK)
    assert asyncio.run(backfill.current_period(refuses, None, BarSize(), after_close, sessions)) == (None, [])


# -- against the simulated gateway: a backfill slow enough for bars to complete meanwhile ------------------
import pytest  # noqa: E402

from runner.data.intraday_sample import synthetic_minute_bars  # noqa: E402


@pytest.fixture(params=["ib_insync", "ib_async"])
def library(request):
    return request.param


def test_bars_completed_during_a_paced_backfill_are_fetched_once_and_none_is_skipped(library, tmp_path):
    """The backfill starts at 10:00:30; pacing holds it while the gateway's clock reaches 10:03:30. The
    10:00, 10:01 and 10:02 bars completed meanwhile: each reaches the strategy once, as the source has it,
    and the 10:03 bar in progress is seeded and completed live (no "started inside the bar" skip)."""
    import backtrader as bt

    from runner.ib.broker import IBBroker
    from runner.ib.feed import IBFeed
    from runner.ib.ib_config import IBConfig
    from runner.ib.store import IBStore
    from runner.sim import SimulatedGateway
    from harness import PATIENCE, LiveRun, Recorder, wait_for

    source = synthetic_minute_bars(dt.date(2019, 5, 28), dt.date(2019, 5, 29), seed=3)
    start = pd.Timestamp("2019-05-29 10:00:30", tz="America/New_York")
    with SimulatedGateway(bars={"SPY": source}, speed=0, paused=True, start=start, wire_log=False,
                          session_pause=0.05, bar_pause=0.02, pacing_time_scale=0.01) as gw:
        cfg = IBConfig(port=gw.port, library=library, client_id=7, connect_timeout=30,
                       journal=tmp_path / "journal.sqlite", pacing_backoff=0.2)
        store = IBStore(cfg)
        store.clock_interval = 0.2
        snapshot = store.connect()
        served = store.history
        requests = []

        async def slow_history(contract, end, duration, bar_size, format_date=2):
            requests.append((end, duration, bar_size))
            if len(requests) == 1:   # the first backfill request is refused for pacing, and time goes on
                gw.pace_next_historical(1)
                await asyncio.to_thread(gw.advance_to, start + pd.Timedelta(minutes=3), PATIENCE)
            return await served(contract, end, duration, bar_size, format_date)

        store.history = slow_history
        feed = IBFeed(store=store, symbol="SPY", bar_size="1min", backfill_bars=30, name="SPY", qcheck=0.1)
        broker = IBBroker(store, snapshot, None)
        broker.register_feeds([feed])
        cerebro = bt.Cerebro(stdstats=False, quicknotify=True)
        cerebro.adddata(feed, name="SPY")
        cerebro.setbroker(broker)
        cerebro.addstrategy(Recorder)
        run = LiveRun(store, broker, {"SPY": feed}, cerebro, gateway=gw).start()
        assert wait_for(lambda: sum(gw.realtime_subscriptions().values(), []) == ["SPY"]), "went live"
        gw.advance_to(pd.Timestamp("2019-05-29 10:20", tz="America/New_York"), PATIENCE)
        last = pd.Timestamp("2019-05-29 10:18", tz="America/New_York")
        assert wait_for(lambda: feed.delivered and feed.delivered[-1].time >= last), "bars up to 10:18 delivered"
        run.stop()
    times = [pd.Timestamp(b.time) for b in feed.delivered]
    assert len(times) == len(set(times)), "no bar delivered twice"
    assert times[-1] >= last
    expected = source.loc[times[0]:times[-1]]
    assert times == list(expected.index), "every completed bar delivered, in order, none skipped"
    got = pd.DataFrame([b[1:] for b in feed.delivered], index=times,
                       columns=["open", "high", "low", "close", "volume"])
    pd.testing.assert_frame_equal(got, expected[["open", "high", "low", "close", "volume"]], check_freq=False,
                                  check_names=False, check_index_type=False)
    assert times[0] == pd.Timestamp("2019-05-29 09:30", tz="America/New_York"), "30 bars backfilled"


def test_a_daily_bar_that_closes_while_the_backfill_runs_is_fetched_once():
    """Started at 15:59:50; the backfill ends at 16:00:30: the day's bar is complete and comes from history
    (once), and nothing of it is seeded or streamed."""
    sessions = Sessions()
    days = [d.date() for d in pd.bdate_range("2018-01-02", "2018-06-29") if sessions.is_session(d.date())]
    times = iter([dt.datetime(2018, 6, 29, 15, 59, 50, tzinfo=NEW_YORK), dt.datetime(2018, 6, 29, 16, 0, 30,
                                                                                     tzinfo=NEW_YORK)])
    clock_now = [None]

    async def clock():
        clock_now[0] = next(times, clock_now[0])
        return clock_now[0].astimezone(UTC)

    calls = []

    async def history(contract, end, duration, bar_size, format_date):
        calls.append((end, duration, bar_size))
        now = clock_now[0]
        if bar_size == "1 min":
            return []
        stop = now if end == "" else end
        return [SimpleNamespace(date=d, open=1, high=2, low=0.5, close=1.5, volume=10) for d in days
                if sessions.open_of(d) < stop]   # the gateway shows the day in progress too (as IB does)

    startup = asyncio.run(backfill.backfill_to_now(history, clock, None, BarSize(), 20, sessions))
    stamps = [b.time.date() for b in startup.bars]
    assert stamps[-1] == dt.date(2018, 6, 29) and len(stamps) == len(set(stamps)) == 21
    assert stamps[:-1] == days[-21:-1]
    assert startup.period_start is None and startup.seed == []
    assert [c[2] for c in calls].count("1 day") == 2, "the backfill, then one request for what completed"


def test_a_daily_bar_streaming_began_inside_is_the_gateways_own_bar(library, tmp_path):
    """Started at 11:00 on a daily dataset (no finer history to seed from): the day's bar reaches the strategy
    as the gateway's history has it (its open included), not as the part the stream saw."""
    from harness import PATIENCE, Recorder, live_run, synthetic_daily, wait_for
    from runner.sim import SimulatedGateway

    source = synthetic_daily(4, 30)
    day = source.index[25].date()
    with SimulatedGateway(bars={"SPY": source}, speed=0, paused=True, wire_log=False, session_pause=0.05,
                          pacing_time_scale=0.01, start=f"{day} 11:00") as gw:
        run = live_run(gw, library, Recorder, tmp_path, backfill_bars=20).start()
        assert wait_for(lambda: sum(gw.realtime_subscriptions().values(), []) == ["SPY"]), "went live"
        gw.advance_to(pd.Timestamp(f"{day} 16:30", tz="America/New_York"), PATIENCE)
        assert wait_for(lambda: run.strategy.bars and run.strategy.bars[-1][0] >= day), "the day's bar delivered"
        run.stop()
    row = source.loc[source.index.date == day].iloc[0]
    got = run.strategy.bars[-1]
    assert got[0] == day
    assert got[1:] == (row["open"], row["high"], row["low"], row["close"], row["volume"])
    assert [b[0] for b in run.strategy.bars] == [t.date() for t in source.index[5:26]]
