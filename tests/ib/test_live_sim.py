"""Feed and broker end to end against the in-process simulated gateway, with both client libraries."""
import asyncio

import backtrader as bt
import pandas as pd
import pytest

from runner.errors import GatewayError, SafetyError
from runner.ib.ib_config import IBConfig, RiskLimits
from runner.ib.store import IBStore

from harness import (PATIENCE, REPLAY_PATIENCE, SESSIONS, WARMUP, Recorder, gateway, live_run, step_sessions,
                     synthetic_daily, wait_for)


@pytest.fixture
def bars():
    return synthetic_daily(1, SESSIONS)


def replay(gw, run):
    """Replay to the end session by session (the bot acts on each bar before the next opens), then stop."""
    run.start()
    assert wait_for(lambda: run.store.feeds and all(not f.backfilling for f in run.feeds.values()))
    step_sessions(gw, run.store, run.feeds.values(), sessions_ahead(gw))
    gw.resume()
    assert gw.wait_until_done(REPLAY_PATIENCE)
    last = gw.clock.date()
    assert wait_for(lambda: run.strategy.bars and run.strategy.bars[-1][0] >= last)
    run.stop()
    return run.strategies[0]


def sessions_ahead(gw):
    """The simulator's sessions from its clock's day on."""
    days = sorted({pd.Timestamp(d).date() for s in gw.series.values() for d in s.frame["session"]})
    return [d for d in days if d >= gw.clock.date()]


def source_rows(bars):
    return [(t.date(), r.open, r.high, r.low, r.close, r.volume) for t, r in bars.iterrows()]


def test_backfill_then_live_bars_reproduce_the_source_once_in_order(library, bars, tmp_path):
    with gateway(bars) as gw:
        strategy = replay(gw, live_run(gw, library, Recorder, tmp_path))
    assert strategy.bars == source_rows(bars)


def test_order_types_and_their_statuses(library, bars, tmp_path):
    def plan(s, n):
        if n == WARMUP + 1:
            s.buy(size=10).addinfo(name="market")
            s.buy(size=5, exectype=bt.Order.Close).addinfo(name="moc")
            s.orders["far_limit"] = s.buy(size=5, exectype=bt.Order.Limit, price=1.0)
            s.orders["far_limit"].addinfo(name="far_limit")
            s.buy(size=1, exectype=bt.Order.Stop, price=1.0).addinfo(name="stop_hit")
            s.buy(size=1, exectype=bt.Order.StopLimit, price=1e4, plimit=1e4 + 1).addinfo(name="stop_limit")
        if n == WARMUP + 3:
            s.cancel(s.orders["far_limit"])

    with gateway(bars) as gw:
        strategy = replay(gw, live_run(gw, library, Recorder, tmp_path, plan=plan))
        at_gateway = {o.order_ref: o for o in gw.orders()}
    assert strategy.statuses("market") == ["Submitted", "Accepted", "Completed"]
    assert strategy.statuses("moc") == ["Submitted", "Accepted", "Completed"]
    assert strategy.statuses("far_limit") == ["Submitted", "Accepted", "Canceled"]
    assert strategy.statuses("stop_hit") == ["Submitted", "Accepted", "Completed"]
    assert strategy.statuses("stop_limit") == ["Submitted", "Accepted"]
    day = {n: p for n, s, size, p in strategy.notes if s == "Completed"}
    after = bars.iloc[WARMUP + 1]
    assert day["market"] == pytest.approx(after.open)
    assert day["moc"] == pytest.approx(after.close)
    types = sorted(o.order_type for o in at_gateway.values())
    assert types == sorted(["MKT", "MOC", "LMT", "STP", "STP LMT"])
    assert all(ref.startswith("flowbot:Recorder:SPY:") for ref in at_gateway)


def test_partial_fills_are_executed_one_by_one(library, bars, tmp_path):
    def plan(s, n):
        if n == WARMUP + 1:
            s.buy(size=9).addinfo(name="market")

    with gateway(bars, partial_fills=3) as gw:
        strategy = replay(gw, live_run(gw, library, Recorder, tmp_path, plan=plan))
    assert [(st, size) for n, st, size, _ in strategy.notes if n == "market"] == [
        ("Submitted", 0), ("Accepted", 0), ("Partial", 3), ("Partial", 6), ("Completed", 9)]
    assert strategy.broker.getposition(strategy.data).size == 9


def test_gateway_reject_reaches_the_strategy(library, bars, tmp_path):
    def plan(s, n):
        if n == WARMUP + 1:
            s.buy(size=10).addinfo(name="rejected")

    with gateway(bars) as gw:
        gw.reject_next_orders(1)
        strategy = replay(gw, live_run(gw, library, Recorder, tmp_path, plan=plan))
    assert strategy.statuses("rejected")[-1] == "Rejected"
    assert strategy.broker.getposition(strategy.data).size == 0


def test_position_limit_rejects_before_sending(library, bars, tmp_path):
    def plan(s, n):
        if n == WARMUP + 1:
            s.buy(size=1000).addinfo(name="too_big")

    with gateway(bars) as gw:
        strategy = replay(gw, live_run(gw, library, Recorder, tmp_path, plan=plan,
                                       risk=RiskLimits(max_position_value=10_000)))
        assert gw.orders() == []
    assert strategy.statuses("too_big") == ["Submitted", "Rejected"]


def test_daily_loss_limit_cancels_flattens_and_stops(library, bars, tmp_path):
    def plan(s, n):
        if n == WARMUP + 1:
            s.buy(size=900).addinfo(name="big")
            s.buy(size=1, exectype=bt.Order.Limit, price=1.0).addinfo(name="resting")

    halted = []
    with gateway(bars) as gw:
        run = live_run(gw, library, Recorder, tmp_path, plan=plan, risk=RiskLimits(max_daily_loss=1.0))
        run.broker.on_halt = halted.append
        strategy = replay(gw, run)
        positions = gw.positions()
    assert halted and "daily loss" in halted[0]
    assert strategy.statuses("resting")[-1] == "Canceled"
    assert "SPY" not in positions, "flattened at the gateway"


def test_pacing_violations_back_off_and_retry(library, bars, tmp_path):
    with gateway(bars) as gw:
        gw.pace_next_historical(2, code=162)
        strategy = replay(gw, live_run(gw, library, Recorder, tmp_path))
    assert strategy.bars == source_rows(bars)


def test_client_id_in_use_is_a_clear_gateway_error(library, bars):
    with gateway(bars) as gw:
        gw.reserve_client_id(7)
        store = IBStore(IBConfig(port=gw.port, library=library, client_id=7, connect_timeout=30))
        with pytest.raises(GatewayError, match="client id 7.*in use"):
            store.connect()


def test_live_account_is_refused_and_nothing_is_sent(library, bars, tmp_path):
    with gateway(bars, account="U7654321") as gw:
        store = IBStore(IBConfig(port=gw.port, library=library, connect_timeout=30, journal=tmp_path / "j.sqlite"))
        with pytest.raises(SafetyError, match="non-paper account"):
            store.connect()
        assert wait_for(lambda: gw.connected_clients() == []), "disconnected"
        assert gw.orders() == []


def test_callers_asking_the_gateway_time_at_once_all_get_an_answer(library, bars, tmp_path):
    """The clock poll, a resubscription after 1101 and a feed may ask at the same moment; the client
    keeps one pending reqCurrentTime, so each caller must still be answered (it hung the 1101 test)."""
    with gateway(bars) as gw:
        run = live_run(gw, library, Recorder, tmp_path)
        try:
            async def together():
                return await asyncio.gather(*(run.store.current_time() for _ in range(4)))

            times = run.store.call(together(), timeout=PATIENCE)
            assert len(times) == 4 and len(set(times)) == 1   # one answer, shared
            assert run.store.call(run.store.current_time(), timeout=PATIENCE) >= times[0]
        finally:
            run.store.stop()
