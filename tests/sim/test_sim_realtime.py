"""5-second bars: their aggregation is exactly the source bars; the replay's pace and pauses."""
from __future__ import annotations

import time

import pandas as pd

from sim_data import PATIENCE, random_daily, random_minutes, wait_for

NY = "America/New_York"


def _stream(ib, lib):
    contract = lib.Stock("SPY", "SMART", "USD")
    ib.qualifyContracts(contract)
    return contract, ib.reqRealTimeBars(contract, 5, "TRADES", True)


def _aggregate(bars, key) -> pd.DataFrame:
    frame = pd.DataFrame([{"key": key(pd.Timestamp(b.time).tz_convert(NY)), "open": b.open_, "high": b.high,
                           "low": b.low, "close": b.close, "volume": b.volume} for b in bars])
    return frame.groupby("key").agg(open=("open", "first"), high=("high", "max"), low=("low", "min"),
                                    close=("close", "last"), volume=("volume", "sum"))


def test_daily_bars_replay_exactly_and_fast(ib_lib, make_gateway, connect):
    daily = random_daily(60)
    gw = make_gateway({"SPY": daily})
    ib = connect(ib_lib, gw.port)
    _, bars = _stream(ib, ib_lib)
    gw.resume()
    assert gw.wait_until_done(PATIENCE)                         # speed 0: no pacing, whatever the load
    assert wait_for(ib, lambda: len(bars) == 4 * len(daily))
    got = _aggregate(bars, lambda t: t.normalize())
    expected = daily.astype(float)
    expected.index = expected.index.rename("key")
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_freq=False, check_index_type=False)
    last = pd.Timestamp(bars[-1].time).tz_convert(NY)
    assert (last.hour, last.minute, last.second) == (15, 59, 55)   # the close piece, delivered at 16:00


def test_minute_bars_replay_exactly_with_early_close(ib_lib, make_gateway, connect):
    minutes = random_minutes("2024-11-29", minutes=210)        # day after Thanksgiving: closes 13:00
    gw = make_gateway({"SPY": minutes})
    ib = connect(ib_lib, gw.port)
    _, bars = _stream(ib, ib_lib)
    gw.resume()
    assert gw.wait_until_done(PATIENCE)
    assert wait_for(ib, lambda: len(bars) == 4 * len(minutes))
    got = _aggregate(bars, lambda t: t.floor("1min"))
    expected = minutes.astype(float)
    expected.index = expected.index.rename("key")
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_freq=False, check_index_type=False)


def test_speed_factor_paces_the_clock(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_minutes("2024-03-04")}, speed=600)
    started = time.monotonic()
    assert gw.advance_to("2024-03-04 09:40") == pd.Timestamp("2024-03-04 09:40", tz=NY)
    elapsed = time.monotonic() - started
    assert elapsed > 0.8          # 600 sim seconds at 600x take a real second; a loaded machine only adds to it


def test_orders_sent_on_a_completed_session_fill_at_the_next_open(ib_lib, make_gateway, connect):
    """The session pause lets a client act on the day's last bar before the next session opens."""
    daily = random_daily(12)
    gw = make_gateway({"SPY": daily}, session_pause=0.05)
    ib = connect(ib_lib, gw.port)
    contract, bars = _stream(ib, ib_lib)
    trades = []

    def on_bar(bar_list, has_new):
        stamp = pd.Timestamp(bar_list[-1].time).tz_convert(NY)
        if (stamp.hour, stamp.minute, stamp.second) == (15, 59, 55):
            trades.append(ib.placeOrder(contract, ib_lib.MarketOrder("BUY", 1)))

    bars.updateEvent += on_bar
    closes = []

    def acted_on_the_close():   # the session pause waits for the client's order, not for a time
        closes.append(1)
        deadline = time.monotonic() + PATIENCE
        while len(gw.orders()) < len(closes) and time.monotonic() < deadline:
            time.sleep(0.01)

    gw.set_pause_hook(acted_on_the_close)
    gw.resume()
    assert wait_for(ib, lambda: gw.wait_until_done(0), timeout=PATIENCE)   # the client acts while it replays
    assert wait_for(ib, lambda: len(trades) == len(daily))
    filled = [t.orderStatus.avgFillPrice for t in trades if t.orderStatus.status == "Filled"]
    assert filled == list(daily.open.iloc[1:])                 # each at the following session's open
