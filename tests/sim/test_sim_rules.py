"""Pure rules: the account's P&L arithmetic, commissions, 5-second pieces, fill prices."""
from __future__ import annotations

import pytest

from runner.sim import matching
from runner.sim.account import Account, CommissionSchedule
from runner.sim.orders import OrderTicket, SimOrder
from runner.sim.replay import bar_pieces, split_volume


def _order(action="BUY", kind="LMT", lmt=None, aux=None, **extra) -> SimOrder:
    ticket = OrderTicket(1, 1, "SPY", "STK", "SMART", "USD", action, 10.0, kind, lmt, aux, **extra)
    return SimOrder(ticket=ticket, client_id=1, perm_id=1, received_at=0.0, status="Submitted")


def test_round_trip_realizes_price_difference_net_of_both_commissions():
    account = Account("DU1", 10_000.0)
    assert account.apply_fill("SPY", 10, 100.0, 1.0) is None               # opening: nothing realized
    assert account.positions["SPY"].avg_cost == pytest.approx(100.1)      # commission in the cost
    realized = account.apply_fill("SPY", -10, 110.0, 1.0)
    assert realized == pytest.approx(10 * (110.0 - 100.1) - 1.0)
    assert account.cash == pytest.approx(10_000.0 - 1000.0 - 1.0 + 1100.0 - 1.0)
    assert account.positions["SPY"].quantity == 0


def test_short_and_crossing_through_zero():
    account = Account("DU1", 10_000.0)
    account.apply_fill("SPY", -10, 100.0, 1.0)
    assert account.positions["SPY"].avg_cost == pytest.approx(99.9)
    realized = account.apply_fill("SPY", 15, 90.0, 1.5)                  # cover 10, open 5 long
    assert realized == pytest.approx(10 * (99.9 - 90.0) - 1.0)
    assert account.positions["SPY"].quantity == 5
    assert account.positions["SPY"].avg_cost == pytest.approx(90.1)
    summary = account.summary({"SPY": 95.0})
    assert summary["NetLiquidation"] == pytest.approx(account.cash + 5 * 95.0)


def test_commission_minimum_is_per_order_across_executions():
    schedule = CommissionSchedule(per_share=0.005, minimum=1.0)
    first = schedule.for_execution(100, 0.0, 100)
    second = schedule.for_execution(300, first, 400)
    assert (first, second) == (1.0, 1.0)                                 # 400 shares: 2.00 in total


@pytest.mark.parametrize("volume", [1_000_003, 7, 0, 1234.5])
def test_volume_split_sums_exactly(volume):
    assert sum(split_volume(volume, 4)) == volume


@pytest.mark.parametrize("o, h, l, c, first_extreme", [(10, 12, 9, 11, 9), (10, 12, 9, 9.5, 12)])
def test_pieces_aggregate_to_the_bar_and_follow_the_path(o, h, l, c, first_extreme):
    pieces, segments = bar_pieces("SPY", 0, 23_400, o, h, l, c, 1001)
    assert pieces[0].open == o and pieces[-1].close == c
    assert max(p.high for p in pieces) == h and min(p.low for p in pieces) == l
    assert sum(p.volume for p in pieces) == 1001
    assert segments[0][2] == first_extreme
    assert pieces[-1].time == 23_400 - 5


def test_limit_stop_and_gap_rules():
    assert matching.fill_at_open(_order(lmt=101.0), 100.0) == 100.0       # open below a buy limit
    assert matching.fill_on_move(_order(lmt=99.0), 100.0, 98.0) == 99.0   # touched
    assert matching.fill_on_move(_order(lmt=97.0), 100.0, 98.0) is None
    stop = _order("SELL", "STP", aux=99.0)
    assert matching.fill_at_open(stop, 98.0) == 98.0                      # gap through the stop
    assert matching.fill_on_move(_order("SELL", "STP", aux=99.0), 100.0, 98.0) == 99.0
    stop_limit = _order("BUY", "STP LMT", lmt=101.0, aux=100.5)
    assert matching.fill_at_open(stop_limit, 102.0) is None               # triggered beyond its limit
    assert stop_limit.stop_triggered and matching.fill_on_move(stop_limit, 102.0, 100.0) == 101.0


def test_trailing_stop_follows_the_best_price():
    trail = _order("SELL", "TRAIL", aux=2.0)
    assert matching.fill_on_move(trail, 100.0, 110.0) is None            # stop now 108
    assert matching.fill_on_move(trail, 110.0, 107.0) == 108.0
    pct = _order("BUY", "TRAIL", trailing_percent=10.0, trail_stop_price=105.0)
    assert matching.trailing_stop(pct) is None
    assert matching.fill_on_move(pct, 100.0, 104.0) is None
    assert matching.fill_on_move(pct, 104.0, 120.0) == pytest.approx(105.0)


def test_auction_rules():
    assert matching.fill_at_auction(_order(kind="MOC"), 50.0) == 50.0
    assert matching.fill_at_auction(_order(kind="LOC", lmt=49.0), 50.0) is None
    assert matching.fill_at_auction(_order("SELL", "LOC", lmt=49.0), 50.0) == 50.0
