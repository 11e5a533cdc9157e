"""Issue 10: real-time bars that stop with the socket up and no error code (both libraries).

The simulated gateway's ``stall_bars`` silences SPY's bars while orders, reqCurrentTime and history
work on, as when IB's subscription dies or the market data farm drops. The daily feed is stalled
once a session closes without a bar in its last half hour (runner/ib/feed_stall.py): an ERROR, the
``feed_stalled`` alert, the bars requested once again; bars flowing again clear it. A time exit due
while the feed is stalled is flattened at market by the stale-exit machinery. Everything waits on
the simulator's events and clock.
"""
import pandas as pd

from runner.ib.market_data import HISTORY_RETRIES
from strategies.market_calendar import moc_cutoff, session_offset

from harness import WARMUP, gateway, wait_for
from test_order_defects import WIDE, advance, bars, day, finish, go_live, one_trade, refs_unique  # noqa: F401

HOLD = 3   # the time exit: the close of the third session after the decision


def error_lines():
    from loguru import logger

    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(m.record["message"]), level="ERROR")
    return seen, sink


def test_a_stalled_feed_is_detected_alerted_resubscribed_and_flows_again(library, bars, tmp_path):
    from loguru import logger

    errors, sink = error_lines()
    alerts: list[tuple[str, str]] = []
    try:
        with gateway(bars) as gw:
            run = go_live(one_trade(gw, library, tmp_path, bars, **WIDE))
            run.broker.on_alert = lambda kind, text: alerts.append((kind, text))
            feed = run.feeds["SPY"]
            advance(gw, run, bars, WARMUP + 1)
            gw.stall_bars("SPY")                         # after that close: the next session sends nothing
            gw.advance_to(f"{day(bars, WARMUP + 2)} 15:00")
            stamp = run.broker.clock_answers
            assert wait_for(lambda: run.broker.clock_answers > stamp + 1)
            assert not alerts and not feed.stalled, "a quiet session is no stall before its close"
            gw.advance_to(f"{day(bars, WARMUP + 3)} 10:00")   # a session closed without a bar
            assert wait_for(lambda: alerts), "the stall is alerted"
            kind, text = alerts[0]
            assert kind == "feed_stalled" and "SPY" in text and "no real-time bar" in text
            assert any("SPY" in e and "no real-time bar" in e and " min" in e for e in errors), errors
            assert wait_for(lambda: run.store.bar_restarts == {"SPY": 1}), "requested again, once"
            assert feed.stalled and "SPY" in run.broker.stalled_feeds
            # The missed session comes from history with the new subscription's gap fill.
            assert wait_for(lambda: run.strategy.last_day == day(bars, WARMUP + 2))
            gw.advance_to(f"{day(bars, WARMUP + 3)} 12:00")   # the new subscription streams
            assert wait_for(lambda: not feed.stalled and not run.broker.stalled_feeds), "flowing again"
            strategy = finish(gw, run, bars)
    finally:
        logger.remove(sink)
    assert [k for k, _ in alerts] == ["feed_stalled", "feed_flowing"], alerts
    assert "flowing again" in alerts[1][1] and "SPY" in alerts[1][1]
    assert run.store.bar_restarts == {"SPY": 1}
    assert strategy.last_day == day(bars, len(bars) - 1)


def test_a_new_subscription_silent_too_is_requested_again_then_given_up_loudly(library, bars, tmp_path):
    """The market data farm is gone (new subscriptions are silent too): each later session closed without a bar
    asks again, up to RESUBSCRIBE_LIMIT times; then one more alert says the feed stays stale."""
    from runner.ib.broker_feed_stall import RESUBSCRIBE_LIMIT

    alerts: list[tuple[str, str]] = []
    with gateway(bars) as gw:
        run = go_live(one_trade(gw, library, tmp_path, bars, **WIDE))
        run.broker.on_alert = lambda kind, text: alerts.append((kind, text))
        advance(gw, run, bars, WARMUP + 1)
        gw.stall_bars("SPY", resubscribe_restores=False)
        for n in range(1, RESUBSCRIBE_LIMIT + 1):   # session WARMUP + 2 + n - 1 closed without a bar
            gw.advance_to(f"{day(bars, WARMUP + 2 + n)} 10:00")
            assert wait_for(lambda: run.store.bar_restarts == {"SPY": n}), (n, run.store.bar_restarts)
        assert [k for k, _ in alerts] == ["feed_stalled"], "the requests again are no new alert"
        gw.advance_to(f"{day(bars, WARMUP + 3 + RESUBSCRIBE_LIMIT)} 10:00")
        assert wait_for(lambda: len(alerts) == 2), "giving up is alerted"
        assert alerts[1][0] == "feed_stalled" and "stays stale" in alerts[1][1], alerts
        gw.advance_to(f"{day(bars, WARMUP + 4 + RESUBSCRIBE_LIMIT)} 10:00")
        stamp = run.broker.clock_answers
        assert wait_for(lambda: run.broker.clock_answers > stamp + 1)
        assert run.store.bar_restarts == {"SPY": RESUBSCRIBE_LIMIT} and len(alerts) == 2, "no more requests"
        gw.resume_bars()
        gw.advance_to(f"{day(bars, WARMUP + 4 + RESUBSCRIBE_LIMIT)} 12:00")
        assert wait_for(lambda: not run.broker.stalled_feeds), "flowing again"
        assert wait_for(lambda: alerts[-1][0] == "feed_flowing")
        finish(gw, run, bars)


def test_a_stall_lasting_through_a_time_exit_is_flattened_at_market(library, bars, tmp_path):
    alerts: list[tuple[str, str]] = []
    with gateway(bars) as gw:
        run = go_live(one_trade(gw, library, tmp_path, bars, **dict(WIDE, hold=HOLD)))
        run.broker.on_alert = lambda kind, text: alerts.append((kind, text))
        exit_day = session_offset(day(bars, WARMUP), HOLD)
        advance(gw, run, bars, WARMUP + 1)              # the entry filled at this open; stop and target work
        assert wait_for(lambda: run.strategy.trade_plan is not None and run.strategy.trade_plan.filled, 30)
        size = run.strategy.trade_plan.size
        # The farm is gone (a new subscription is silent too) and the missed bars cannot be fetched either:
        # the bar before the exit day, which sends the time exit, never comes.
        gw.stall_bars(None, resubscribe_restores=False)
        gw.pace_next_historical(HISTORY_RETRIES + 1)
        gw.advance_to(f"{exit_day} 10:00")
        assert wait_for(lambda: alerts), "the stall is alerted"
        assert alerts[0][0] == "feed_stalled"
        assert wait_for(lambda: run.store.bar_restarts == {"SPY": 1})
        assert wait_for(lambda: not gw.faults.pacing_codes), "the gap fill asked history (and was refused)"
        cutoff = moc_cutoff(exit_day)
        gw.advance_to(cutoff - pd.Timedelta(minutes=25))   # stale_exit_minutes 30: the exit is due
        assert wait_for(lambda: any(k == "stale_exit" for k, _ in alerts)), "the due time exit is alerted"
        due = next(t for k, t in alerts if k == "stale_exit")
        assert "SPY" in due and f"{size:+g}" in due and "stopped" in due
        assert wait_for(lambda: any(o.order_type == "MKT" and o.action == "SELL" for o in gw.orders())), \
            "flattened at market while the bars are still stalled"
        gw.advance_to(f"{session_offset(exit_day, 1)} 10:00")
        assert wait_for(lambda: "SPY" not in gw.positions())
        gw.resume_bars()
        strategy = finish(gw, run, bars)
        orders = gw.orders()
        refs_unique(gw)
    assert not [o for o in orders if o.order_type == "MOC"], "the time exit is never sent late"
    assert strategy.statuses("flatten")[-1] == "Completed" and strategy.trade_plan is None
    sells = [o for o in orders if o.action == "SELL" and o.filled]
    assert sum(o.filled for o in sells) == size, "one exit only"


def test_a_daily_bar_whose_stream_stalled_mid_session_is_taken_from_history(library, bars, tmp_path):
    """Closed at the close on what streamed, the bar would end at the price of the stall (a wrong close the
    playbook decides on): the gateway's own bar replaces it."""
    with gateway(bars) as gw:
        run = go_live(one_trade(gw, library, tmp_path, bars, **WIDE))
        feed = run.feeds["SPY"]
        gw.advance_to(f"{day(bars, WARMUP + 1)} 12:00")   # the open and the first extreme streamed
        gw.stall_bars("SPY")
        advance(gw, run, bars, WARMUP + 1)
        bar = next(b for b in feed.delivered if b.time.date() == day(bars, WARMUP + 1))
        finish(gw, run, bars)
    source = bars.iloc[WARMUP + 1]
    assert (bar.open, bar.high, bar.low, bar.close) == (source.open, source.high, source.low, source.close)
