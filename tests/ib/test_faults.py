"""Faults: dropped sockets, gateway restarts, giving up, 1100/1101/1102 -- no bar or fill lost, nothing sent twice."""
import datetime as dt

import pandas as pd
import pytest

from runner.errors import GatewayError

from harness import (REPLAY_PATIENCE, SESSIONS, WARMUP, Recorder, gateway, live_run, step_sessions, synthetic_daily,
                     wait_for)
from test_live_sim import sessions_ahead, source_rows


@pytest.fixture
def bars():
    return synthetic_daily(2, SESSIONS)


def at(bars, session_index, hh, mm):
    day = bars.index[session_index].date()
    return pd.Timestamp(dt.datetime.combine(day, dt.time(hh, mm)), tz="America/New_York")


def buy_on_first_live_bar(s, n):
    if n == WARMUP + 1:
        s.buy(size=10).addinfo(name="entry")


def start_live(gw, run):
    run.start()
    assert wait_for(lambda: run.store.feeds and not any(f.backfilling for f in run.feeds.values()))


def finish(gw, run, bars):
    step_sessions(gw, run.store, run.feeds.values(), sessions_ahead(gw))
    gw.resume()
    assert gw.wait_until_done(REPLAY_PATIENCE)
    last = bars.index[-1].date()
    assert wait_for(lambda: run.strategy.bars and run.strategy.bars[-1][0] >= last)
    run.stop()
    return run.strategies[0]


def test_fill_during_a_gateway_restart_is_not_lost_and_nothing_is_resent(library, bars, tmp_path):
    with gateway(bars) as gw:
        run = live_run(gw, library, Recorder, tmp_path, plan=buy_on_first_live_bar)
        start_live(gw, run)
        gw.advance_to(at(bars, WARMUP, 16, 1))
        assert wait_for(lambda: len(gw.orders()) == 1), "the entry reached the gateway"
        gw.drop_connections(restart_seconds=1.0)
        gw.advance_to(at(bars, WARMUP + 1, 12, 0))          # the entry fills while we are away
        assert wait_for(lambda: gw.connected_clients() == [7]), "reconnected after the restart"
        strategy = finish(gw, run, bars)
        orders = gw.orders()
    assert strategy.bars == source_rows(bars), "bars missed while away were rebuilt from history"
    assert strategy.statuses("entry") == ["Submitted", "Accepted", "Completed"]
    assert len(orders) == 1 and orders[0].status == "Filled"
    assert strategy.broker.getposition(strategy.data).size == 10


def test_reconnecting_gives_up_after_the_configured_time(library, bars, tmp_path):
    with gateway(bars) as gw:
        run = live_run(gw, library, Recorder, tmp_path)
        run.store.cfg = run.store.cfg.model_copy(update={"reconnect_give_up": 1.0})
        start_live(gw, run)
        gw.drop_connections(restart_seconds=30.0)
        assert wait_for(lambda: all(f.finished for f in run.feeds.values()))
        run.thread.join(REPLAY_PATIENCE)
        assert not run.thread.is_alive(), "the bot ended once its feeds gave up"
        run.store.stop()
    errors = [f.error for f in run.feeds.values()]
    assert all(isinstance(e, GatewayError) for e in errors)
    assert f"127.0.0.1:{gw.port}" in str(errors[0]) and "could not reconnect" in str(errors[0])


def test_1100_pauses_and_marks_stale_1101_resubscribes_1102_continues(library, bars, tmp_path):
    with gateway(bars) as gw:
        run = live_run(gw, library, Recorder, tmp_path)
        start_live(gw, run)
        feed = run.feeds["SPY"]
        gw.advance_to(at(bars, WARMUP, 12, 0))
        gw.send_error(1100)
        assert wait_for(lambda: run.broker.paused and feed.stale)
        gw.send_error(1102)
        assert wait_for(lambda: not run.broker.paused and not feed.stale)
        gw.send_error(1100)
        assert wait_for(lambda: feed.stale)
        gw.advance_to(at(bars, WARMUP + 2, 12, 0))          # bars lost while connectivity is down
        gw.send_error(1101)
        assert wait_for(lambda: not run.broker.paused and not feed.stale)
        strategy = finish(gw, run, bars)
    assert strategy.bars == source_rows(bars)


def test_reconnect_backoff_is_capped_once_the_gateway_is_restarting(library, bars, tmp_path):
    with gateway(bars) as gw:
        run = live_run(gw, library, Recorder, tmp_path)
        run.store.cfg = run.store.cfg.model_copy(update={"backoff_max": 30.0, "restart_backoff": 0.3})
        start_live(gw, run)
        gw.drop_connections(restart_seconds=600.0)
        assert wait_for(lambda: len(run.store.reconnect_delays) >= 6), "kept trying while the gateway restarts"
        gw.end_restart()
        assert wait_for(lambda: gw.connected_clients() == [7]), "reconnected once the gateway listens again"
        delays = list(run.store.reconnect_delays)
        finish(gw, run, bars)
    # Doubling would wait 0.1, 0.2, 0.4, 0.8, 1.6, 3.2 s...; refused connections cap it at restart_backoff.
    assert delays[:3] == [0.1, 0.2, 0.3] and max(delays) == 0.3


def test_1100_left_unrestored_raises_a_loud_error_naming_the_positions(library, bars, tmp_path):
    from loguru import logger

    errors = []
    sink = logger.add(lambda m: errors.append(m.record["message"]), level="ERROR",
                      filter=lambda r: "connectivity lost (1100)" in r["message"])
    try:
        with gateway(bars) as gw:
            run = live_run(gw, library, Recorder, tmp_path)
            run.broker.stale_alert_after = 0.5
            start_live(gw, run)
            gw.advance_to(at(bars, WARMUP, 12, 0))
            gw.send_error(1100)
            assert wait_for(lambda: len(errors) >= 2), "an ERROR, then another while it lasts"
            assert "not restored" in errors[0] and "positions none" in errors[0]
            gw.send_error(1102)
            assert wait_for(lambda: not run.broker.paused)
            count = len(errors)
            finish(gw, run, bars)
        assert len(errors) == count, "quiet once restored"
    finally:
        logger.remove(sink)
