"""reqHistoricalData: bars up to the sim clock, aggregation, date formats, pacing."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sim_data import qualified_spy, random_daily, random_minutes


@pytest.fixture
def minute_gateway(make_gateway):
    bars = pd.concat([random_minutes("2024-03-04", seed=1), random_minutes("2024-03-05", seed=2)])
    return make_gateway({"SPY": bars}, start="2024-03-05 12:00"), bars



def test_daily_history_stops_at_the_clock(ib_lib, make_gateway, connect):
    daily = random_daily(40)
    gw = make_gateway({"SPY": daily}, warmup_sessions=30)
    ib = connect(ib_lib, gw.port)
    bars = ib.reqHistoricalData(qualified_spy(ib, ib_lib), "", "1 M", "1 day", "TRADES", True)
    assert bars[-1].date == daily.index[29].date()                  # nothing from the replay's future
    last = daily.iloc[29]
    assert (bars[-1].open, bars[-1].high, bars[-1].low, bars[-1].close, bars[-1].volume) == (
        last.open, last.high, last.low, last.close, last.volume)
    ten = ib.reqHistoricalData(qualified_spy(ib, ib_lib), "", "10 D", "1 day", "TRADES", True)
    assert len(ten) == 10


def test_intraday_aggregation_and_end_formats(ib_lib, minute_gateway, connect):
    gw, minutes = minute_gateway
    ib = connect(ib_lib, gw.port)
    spy = qualified_spy(ib, ib_lib)
    hourly = ib.reqHistoricalData(spy, "20240304 16:00:00 US/Eastern", "1 D", "1 hour", "TRADES", True)
    stamps = [b.date.astimezone(dt.timezone.utc) for b in hourly]
    assert [s.strftime("%H:%M") for s in stamps][:3] == ["14:30", "15:00", "16:00"]   # 09:30, 10:00, 11:00 ET
    first_hour = minutes.loc["2024-03-04 09:30":"2024-03-04 09:59"]
    assert hourly[0].open == first_hour.open.iloc[0] and hourly[0].close == first_hour.close.iloc[-1]
    assert hourly[0].high == first_hour.high.max() and hourly[0].volume == first_hour.volume.sum()
    five = ib.reqHistoricalData(spy, "20240305-17:00:00", "1 D", "5 mins", "TRADES", True, formatDate=2)
    assert five[-1].date == pd.Timestamp("2024-03-05 11:55", tz="America/New_York")   # clock is 12:00
    assert len(five) == 30
    day = ib.reqHistoricalData(spy, "", "2 D", "1 day", "TRADES", True)
    assert [b.date for b in day] == [dt.date(2024, 3, 4)]           # today's bar is not complete yet


def test_bars_finer_than_the_dataset_are_an_error(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_daily(20)}, warmup_sessions=15)
    ib = connect(ib_lib, gw.port)
    codes = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
    assert not ib.reqHistoricalData(qualified_spy(ib, ib_lib), "", "1 D", "1 min", "TRADES", True)
    assert codes == [162]


def test_identical_request_within_15_seconds_is_a_pacing_violation(ib_lib, make_gateway, connect):
    now = [0.0]   # the pacing rules' clock, moved by the test: a slow machine cannot open the window early
    gw = make_gateway({"SPY": random_daily(20)}, warmup_sessions=15, pacing_clock=lambda: now[0])
    ib = connect(ib_lib, gw.port)
    spy = qualified_spy(ib, ib_lib)
    codes = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
    assert ib.reqHistoricalData(spy, "", "5 D", "1 day", "TRADES", True)
    now[0] += 14.9
    assert not ib.reqHistoricalData(spy, "", "5 D", "1 day", "TRADES", True)
    assert codes == [162]
    now[0] += 0.2                                                    # 15 s after the first
    assert ib.reqHistoricalData(spy, "", "5 D", "1 day", "TRADES", True)


def test_six_requests_for_one_contract_within_2_seconds_violate_pacing(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_daily(20)}, warmup_sessions=15, pacing_clock=lambda: 0.0)   # all at once
    ib = connect(ib_lib, gw.port)
    spy = qualified_spy(ib, ib_lib)
    codes = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
    served = [bool(ib.reqHistoricalData(spy, "", f"{n} D", "1 day", "TRADES", True)) for n in range(1, 7)]
    assert served == [True] * 5 + [False] and codes == [162]


def test_pacing_can_be_switched_off_and_injected(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_daily(20)}, warmup_sessions=15, pacing=False)
    ib = connect(ib_lib, gw.port)
    spy = qualified_spy(ib, ib_lib)
    codes = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
    assert all(ib.reqHistoricalData(spy, "", "5 D", "1 day", "TRADES", True) for _ in range(8))
    gw.pace_next_historical(2, code=420)
    assert not ib.reqHistoricalData(spy, "", "5 D", "1 day", "TRADES", True)
    assert not ib.reqHistoricalData(spy, "", "5 D", "1 day", "TRADES", True)
    assert ib.reqHistoricalData(spy, "", "5 D", "1 day", "TRADES", True)
    assert codes == [420, 420]


def test_sixty_requests_in_ten_minutes_is_the_limit(make_gateway):
    from runner.sim.pacing import PacingGuard

    now = [0.0]
    guard = PacingGuard(clock=lambda: now[0])
    results = []
    for n in range(61):
        now[0] += 0.5                                                # 2 requests/s, distinct, one contract
        results.append(guard.check(("req", n), "SPY"))
    assert results[:60] == [None] * 60 and results[60][0] == 162
    now[0] += 600
    assert guard.check(("req", "later"), "SPY") is None


def test_head_timestamp(ib_lib, make_gateway, connect):
    daily = random_daily(10)
    gw = make_gateway({"SPY": daily}, warmup_sessions=5)
    ib = connect(ib_lib, gw.port)
    head = ib.reqHeadTimeStamp(qualified_spy(ib, ib_lib), "TRADES", True, formatDate=1)
    assert head.date() == daily.index[0].date()
