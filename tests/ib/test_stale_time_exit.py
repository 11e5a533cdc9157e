"""Issue 10, defect 10: 1100 with no 1101/1102 after it while a time exit comes due (both libraries).

The playbook's time exit (a market-on-close order sent on the bar before the exit day) cannot go out
while the gateway has lost IB: no bar comes to send it. Once the exit day's cutoff is
``ib.stale_exit_minutes`` away, the bot raises an ERROR and an alert (the webhook's ``stale_exit``);
it sends nothing while connectivity is lost; at the first chance once orders can go out again it
cancels the exits and flattens at market. Everything waits on the simulator's events and clock.
"""
import datetime as dt

import pandas as pd
import pytest

from strategies.market_calendar import moc_cutoff, session_offset

from harness import WARMUP, gateway, wait_for
from test_order_defects import WIDE, advance, bars, day, finish, go_live, one_trade, refs_unique  # noqa: F401

HOLD = 3   # the time exit: the close of the third session after the decision


def lost_errors():
    from loguru import logger

    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(m.record["message"]), level="ERROR",
                      filter=lambda r: "time exit" in r["message"])
    return seen, sink


@pytest.mark.parametrize("restored_by", [1102, 1101])
def test_a_time_exit_due_while_1100_lasts_is_alerted_then_flattened_once_orders_can_go(library, bars, tmp_path,
                                                                                       restored_by):
    from loguru import logger

    errors, sink = lost_errors()
    alerts: list[tuple[str, str]] = []
    try:
        with gateway(bars) as gw:
            run = go_live(one_trade(gw, library, tmp_path, bars, **dict(WIDE, hold=HOLD)))
            run.broker.on_alert = lambda kind, text: alerts.append((kind, text))
            decided = day(bars, WARMUP)
            exit_day = session_offset(decided, HOLD)
            advance(gw, run, bars, WARMUP + 1)          # the entry filled at this open; stop and target work
            assert wait_for(lambda: run.strategy.trade_plan is not None and run.strategy.trade_plan.filled, 30)
            size = run.strategy.trade_plan.size
            before = {o.order_ref for o in gw.orders()}
            # Lost on the session before the exit day, before its close: the time exit is never sent.
            gw.advance_to(f"{session_offset(exit_day, -1)} 12:00")
            gw.send_error(1100)
            assert wait_for(lambda: run.broker.paused)
            cutoff = moc_cutoff(exit_day)
            gw.advance_to(cutoff - pd.Timedelta(minutes=40))
            stamp = run.broker.clock_answers
            assert wait_for(lambda: run.broker.clock_answers > stamp + 1)   # the bot has seen the gateway's time
            assert not alerts, "40 minutes before the cutoff: not yet (stale_exit_minutes 30)"
            gw.advance_to(cutoff + pd.Timedelta(minutes=5))             # past the cutoff: only a flatten is left
            assert wait_for(lambda: alerts), "alerted while connectivity is lost"
            assert alerts[0][0] == "stale_exit" and "SPY" in alerts[0][1] and f"{size:+g}" in alerts[0][1]
            assert any("time exit" in e and "1100" in e for e in errors), errors
            assert {o.order_ref for o in gw.orders()} == before, "nothing sent while connectivity is lost"
            gw.send_error(restored_by)
            assert wait_for(lambda: any(o.order_type == "MKT" and o.action == "SELL" for o in gw.orders())), \
                "flattened at market once orders could go out again"
            gw.advance_to(f"{session_offset(exit_day, 1)} 10:00")
            assert wait_for(lambda: "SPY" not in gw.positions())
            strategy = finish(gw, run, bars)
            orders, positions = gw.orders(), gw.positions()
            refs_unique(gw)
    finally:
        logger.remove(sink)
    assert positions == {}
    assert strategy.statuses("flatten")[-1] == "Completed" and strategy.trade_plan is None
    assert not [o for o in orders if o.order_type == "MOC"], "the time exit is never sent late (after its cutoff)"
    assert not [o for o in orders if o.status in ("PreSubmitted", "Submitted")], "the stop and target were cancelled"
    sells = [o for o in orders if o.action == "SELL" and o.filled]
    assert sum(o.filled for o in sells) == size, "one exit only"


def test_no_flatten_when_the_time_exit_is_already_working_at_the_gateway(library, bars, tmp_path):
    """1100 after the time exit reached the gateway: IB works the resting MOC itself; no alert, no flatten."""
    alerts: list[tuple[str, str]] = []
    with gateway(bars) as gw:
        run = go_live(one_trade(gw, library, tmp_path, bars, **dict(WIDE, hold=HOLD)))
        run.broker.on_alert = lambda kind, text: alerts.append((kind, text))
        exit_day = session_offset(day(bars, WARMUP), HOLD)
        advance(gw, run, bars, list(bars.index.date).index(session_offset(exit_day, -1)))   # its bar sends the MOC
        assert wait_for(lambda: any(o.order_type == "MOC" and o.status in ("PreSubmitted", "Submitted")
                                    for o in gw.orders()))
        gw.send_error(1100)
        assert wait_for(lambda: run.broker.paused)
        gw.advance_to(moc_cutoff(exit_day) + pd.Timedelta(minutes=5))
        stamp = run.broker.clock_answers
        assert wait_for(lambda: run.broker.clock_answers > stamp + 1)
        gw.send_error(1102)
        strategy = finish(gw, run, bars)
        orders = gw.orders()
    assert not alerts
    assert not [o for o in orders if o.order_type == "MKT" and o.action == "SELL"], "no flatten"
    assert [o.status for o in orders if o.order_type == "MOC"] == ["Filled"]
    assert strategy.statuses("time_exit")[-1] == "Completed"
