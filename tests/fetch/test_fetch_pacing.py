"""The pacing limiter keeps IB's historical-data rules, on a fake clock; the chunk plan never asks for a holiday."""
import asyncio
import datetime as dt

import pytest

from runner.errors import UserInputError
from runner.fetch.plan import parse_bar_size, plan_chunks, sessions_to_fetch
from runner.ib.bars import BarSize
from runner.ib.pacing import PacingLimiter, PacingRules, minimum_seconds
from runner.ib.sessions import NEW_YORK, Sessions
from runner.sim.pacing import PacingGuard


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    async def sleep(self, seconds):
        self.now += seconds


def send_all(keys, contract="SPY", rules=PacingRules()):
    """Times at which the limiter lets each request go, answers arriving instantly."""
    clock = FakeClock()
    limiter = PacingLimiter(rules, clock=clock, sleep=clock.sleep)
    sent = []

    async def run():
        for key in keys:
            ticket = await limiter.acquire(key, contract)
            sent.append(clock.now)
            limiter.release(ticket)
    asyncio.run(run())
    return sent, limiter


def test_no_more_than_five_per_contract_within_two_seconds():
    sent, _ = send_all(range(12))
    for i in range(5, len(sent)):
        assert sent[i] - sent[i - 5] >= 2.0
    assert sent[4] == sent[0]          # the first five go at once


def test_no_more_than_sixty_in_ten_minutes():
    sent, limiter = send_all(range(130))
    for i in range(60, len(sent)):
        assert sent[i] - sent[i - 60] >= 600.0
    # and no slower than the rules require (margin 0.05 s per window)
    assert sent[-1] - sent[0] <= 2 * 600 + 10 * 2.05 + 1
    assert limiter.requests == 130


def test_identical_request_waits_fifteen_seconds():
    sent, _ = send_all(["a", "a", "b", "a"])
    assert sent[1] - sent[0] >= 15.0
    assert sent[2] == sent[1]
    assert sent[3] - sent[1] >= 15.0


def test_windows_count_from_the_answer_not_the_request():
    clock = FakeClock()
    limiter = PacingLimiter(clock=clock, sleep=clock.sleep)

    async def run():
        ticket = await limiter.acquire("a", "SPY")
        clock.now += 10.0                      # a slow answer
        limiter.release(ticket)
        await limiter.acquire("a", "SPY")
        return clock.now
    assert asyncio.run(run()) - 1010.0 >= 15.0


def test_the_simulated_gateways_guard_accepts_every_request_the_limiter_lets_through():
    clock = FakeClock()
    guard = PacingGuard(clock=clock)
    limiter = PacingLimiter(clock=clock, sleep=clock.sleep)

    async def run():
        for i in range(200):
            key = ("SPY", i % 3)               # repeats too
            ticket = await limiter.acquire(key, "SPY")
            assert guard.check(key, "SPY") is None, f"request {i} refused"
            clock.now += 0.01
            limiter.release(ticket)
    asyncio.run(run())


def test_time_scale_shrinks_every_window():
    clock = FakeClock()
    limiter = PacingLimiter(time_scale=0.01, clock=clock, sleep=clock.sleep)

    async def run():
        for i in range(61):
            limiter.release(await limiter.acquire(i, "SPY"))
    asyncio.run(run())
    assert 6.0 <= clock.now - 1000.0 <= 6.5


def test_theoretical_minimum_of_a_year_of_minute_bars():
    # 252 one-session requests: 4 full 10-minute windows after the first 60, plus bursts of 5 per 2 s.
    seconds = minimum_seconds(252)
    assert 2400 <= seconds <= 2410
    assert minimum_seconds(60) == pytest.approx(22.0, abs=0.1)


def test_plan_never_asks_for_a_holiday_or_an_open_session():
    sessions = Sessions()
    now = dt.datetime(2024, 7, 5, 12, 0, tzinfo=NEW_YORK)   # Jul 5 is still open
    days = sessions_to_fetch(dt.date(2024, 7, 1), dt.date(2024, 7, 8), now, sessions)
    assert days == [dt.date(2024, 7, 1), dt.date(2024, 7, 2), dt.date(2024, 7, 3)]   # Jul 4 holiday
    chunks = plan_chunks(days, BarSize(1), sessions)
    assert [c.sessions for c in chunks] == [(dt.date(2024, 7, 3),), (dt.date(2024, 7, 2),), (dt.date(2024, 7, 1),)]
    assert chunks[0].query.end == dt.datetime(2024, 7, 3, 13, 0, tzinfo=NEW_YORK)   # early close
    assert (chunks[0].query.duration, chunks[0].query.bar_size) == ("1 D", "1 min")


def test_plan_uses_ibs_largest_duration_per_bar_size():
    sessions = Sessions()
    days = sessions.sessions_between(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert len(plan_chunks(days, BarSize(1), sessions)) == 252
    weekly = plan_chunks(days, BarSize(5), sessions)
    assert {c.query.duration for c in weekly} == {"1 W"} and 50 <= len(weekly) <= 54
    monthly = plan_chunks(days, BarSize(30), sessions)
    assert {c.query.duration for c in monthly} == {"1 M"} and 12 <= len(monthly) <= 13
    daily = plan_chunks(days, BarSize(0), sessions)
    assert len(daily) == 1 and daily[0].query.duration == "1 Y" and len(daily[0].sessions) == 252
    covered = sorted(d for c in weekly for d in c.sessions)
    assert covered == days                                   # no session twice, none left out


def test_bar_sizes_ib_does_not_serve_are_refused():
    with pytest.raises(UserInputError, match="expected one of"):
        parse_bar_size("7 mins")
    assert parse_bar_size("1 day").daily and parse_bar_size("5 mins").minutes == 5
