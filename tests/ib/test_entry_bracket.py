"""A next-open entry and its stop and target reach the gateway as one IB bracket (issue 10).

The entry goes out with ``transmit=False``, its stop and target attached after it, the last one
transmitting, so the gateway never holds a live entry without its stop (a run killed in between would
leave it to fill unprotected: tests/ib/test_kill_points.py kills one there). Here: the placeOrder calls
of a real playbook (tests/ib/one_trade.py) through the simulated gateway, both libraries, and the
broker's own paths against the scripted gateway of tests/ib/test_broker.py (a risk-limit refusal, the
gateway unreachable, exits that never come).
"""
from __future__ import annotations

import backtrader as bt

from runner.ib import events
from runner.ib.ib_config import RiskLimits

from harness import gateway, synthetic_daily, SESSIONS, WARMUP, wait_for
from one_trade import OneTrade
from test_broker import run as scripted_run, status
from test_order_defects import advance, day, go_live

WIDE = dict(stop_pct=20.0, target_pct=20.0, hold=20)   # exits that never fill on these bars


def test_a_next_open_entry_is_placed_untransmitted_then_its_stop_then_its_target_transmitting(library, tmp_path):
    from harness import live_run

    bars = synthetic_daily(1, SESSIONS)
    with gateway(bars) as gw:
        run = live_run(gw, library, OneTrade, tmp_path, enter_on=str(day(bars, WARMUP)), **WIDE)
        placed = []
        place = run.store.ib.placeOrder

        def recording(contract, order):   # on the IB loop, in the order the library sends them
            placed.append((order.orderRef, order.orderType, order.transmit, order.orderId, order.parentId))
            return place(contract, order)

        run.store.ib.placeOrder = recording
        go_live(run)
        advance(gw, run, bars, WARMUP, hour="17:00")
        assert wait_for(lambda: len(placed) >= 3 and len(gw.orders()) >= 3, 30), placed
        run.stop()
    entry, stop, target = placed[:3]
    assert [(t, transmit) for _, t, transmit, _, _ in placed[:3]] == [("MKT", False), ("STP", False),
                                                                      ("LMT", True)], placed
    assert stop[4] == target[4] == entry[3] and entry[4] == 0, "stop and target attached to the entry"


# -- the broker's paths, against the scripted gateway -----------------------------------------------------
def entry_with_exits(s, exits=2):
    entry = s.buy(size=10, exits_follow=2)
    stop = s.sell(size=10, exectype=bt.Order.Stop, price=95, entry_ref=entry.ref)
    orders = [entry, stop]
    if exits == 2:
        orders.append(s.sell(size=10, exectype=bt.Order.Limit, price=110, oco=stop, entry_ref=entry.ref))
    return orders


def rests(gw, spec):
    return [status(spec, "PreSubmitted" if spec.parentRef else "Submitted", 0, spec.totalQuantity)]


def test_the_scripted_gateway_gets_the_entry_and_its_exits_in_one_placement(tmp_path):
    calls = []

    def make(s):
        place = s.broker.store.place
        s.broker.store.place = lambda contract, specs: (calls.append([sp.orderRef for sp in specs]),
                                                        place(contract, specs))
        return entry_with_exits(s)

    _, _, gw = scripted_run(tmp_path, make, rests)
    entry, stop, target = gw.placed
    assert [(p.orderType, p.transmit) for p in gw.placed] == [("MKT", False), ("STP", False), ("LMT", True)]
    assert stop.parentRef == target.parentRef == entry.orderRef
    assert calls == [[entry.orderRef, stop.orderRef, target.orderRef]], "one placement, journaled before"


def test_an_entry_refused_by_the_risk_limit_withdraws_its_exits_and_sends_nothing(tmp_path):
    strategy, broker, gw = scripted_run(tmp_path, entry_with_exits, rests, risk=RiskLimits(max_position_value=500))
    assert gw.placed == []
    entry, stop, target = strategy.orders
    assert [s for r, s, _ in strategy.seen if r == entry.ref] == ["Submitted", "Rejected"]
    assert [s for r, s, _ in strategy.seen if r == stop.ref][-1] == "Canceled"
    assert [s for r, s, _ in strategy.seen if r == target.ref][-1] == "Canceled"
    assert broker.bracket == [] and broker.exits_due == {}


def test_while_the_gateway_is_unreachable_the_group_is_held_whole_and_sent_together(tmp_path):
    def make(s):
        s.broker.store.events.put(events.Connectivity("lost"))
        s.broker.store.pump()
        orders = entry_with_exits(s)
        assert [len(specs) for _, specs in s.broker.held] == [3], "held as one group"
        assert s.broker.store.journal.order(s.broker.held[0][1][0].orderRef) is not None, "journaled"
        s.broker.store.events.put(events.Connectivity("restored"))
        return orders

    _, _, gw = scripted_run(tmp_path, make, rests)
    assert [(p.orderType, p.transmit) for p in gw.placed] == [("MKT", False), ("STP", False), ("LMT", True)]


def test_an_entry_whose_announced_exits_do_not_all_come_still_goes_out(tmp_path):
    def make(s):
        orders = entry_with_exits(s, exits=1)   # announces two, gives one
        assert s.broker.bracket, "held for the second exit"
        return orders

    _, broker, gw = scripted_run(tmp_path, make, rests)
    assert [(p.orderType, p.transmit) for p in gw.placed] == [("MKT", False), ("STP", True)]
    assert broker.bracket == []
