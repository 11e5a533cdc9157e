"""Partial fills held across time and disconnects (issue 10: "partial fills of larger orders").

With ``limit_liquidity`` a test decides how many shares trade: an order meets what is left and the rest
keeps working, partly filled, across bars and a client disconnect; the gateway pushes it at reconnect
with its filled quantity; lifting the limit fills the rest at the next bar. Attached orders wait while
their parent works part-filled and, once the rest of the parent is cancelled, protect what it filled.
Bars as in test_sim_orders (Mar 5 opens 102, Mar 6 opens 100, Mar 7 opens 98).
"""
from __future__ import annotations

from sim_data import daily_frame, wait_for

BARS = daily_frame([
    (100.0, 101.0, 99.0, 100.5, 1_000_000),   # Mar 4 (history)
    (102.0, 104.0, 101.0, 103.0, 1_000_000),  # Mar 5
    (100.0, 101.0, 97.0, 98.0, 1_000_000),    # Mar 6
    (98.0, 99.0, 96.0, 97.0, 1_000_000),      # Mar 7
])


def build(ib_lib, make_gateway, connect, client_id):
    gw = make_gateway({"SPY": BARS}, warmup_sessions=1, fill_lot=100)
    ib = connect(ib_lib, gw.port, client_id)
    contract = ib_lib.Stock("SPY", "SMART", "USD")
    ib.qualifyContracts(contract)
    return gw, ib, contract


def test_a_part_filled_market_order_works_on_across_a_disconnect_and_fills_once_shares_trade(
        ib_lib, make_gateway, connect):
    gw, ib, contract = build(ib_lib, make_gateway, connect, client_id=3)
    gw.limit_liquidity("SPY", 300)
    trade = ib.placeOrder(contract, ib_lib.MarketOrder("BUY", 1000, orderRef="big-entry", tif="GTC"))
    gw.advance_to("2024-03-05 12:00")
    assert wait_for(ib, lambda: trade.orderStatus.filled == 300), trade.log
    assert trade.orderStatus.status == "Submitted" and trade.orderStatus.remaining == 700
    assert [f.execution.shares for f in trade.fills] == [100, 100, 100]
    ib.disconnect()
    assert wait_for(ib, lambda: not gw.connected_clients())
    gw.advance_to("2024-03-06 12:00")    # a whole session later: still no shares, still working (GTC)
    [view] = gw.orders()
    assert (view.status, view.filled) == ("Submitted", 300)

    again = connect(ib_lib, gw.port, 3)
    assert wait_for(again, lambda: any(t.order.orderRef == "big-entry" for t in again.openTrades()))
    [pushed] = [t for t in again.openTrades() if t.order.orderRef == "big-entry"]
    assert pushed.orderStatus.filled == 300 and pushed.orderStatus.remaining == 700
    gw.limit_liquidity("SPY", None)
    gw.advance_to("2024-03-07 12:00")    # the rest at the next source bar's open (Mar 7: 98)
    assert wait_for(again, lambda: pushed.orderStatus.status == "Filled"), pushed.log
    fills = gw.fills()
    assert sum(f.shares for f in fills) == 1000
    assert {f.price for f in fills} == {102.0, 98.0}
    assert gw.positions()["SPY"].quantity == 1000


def test_attached_exits_wait_for_a_part_filled_parent_and_protect_what_it_filled_once_its_rest_is_cancelled(
        ib_lib, make_gateway, connect):
    gw, ib, contract = build(ib_lib, make_gateway, connect, client_id=4)
    gw.limit_liquidity("SPY", 200)
    parent = ib_lib.MarketOrder("BUY", 500, transmit=False, tif="GTC")
    parent.orderId = ib.client.getReqId()
    stop = ib_lib.StopOrder("SELL", 500, 90.0, parentId=parent.orderId, transmit=True, tif="GTC")
    entry = ib.placeOrder(contract, parent)
    child = ib.placeOrder(contract, stop)
    gw.advance_to("2024-03-05 12:00")
    assert wait_for(ib, lambda: entry.orderStatus.filled == 200), entry.log
    views = {v.order_id: v for v in gw.orders()}
    assert views[stop.orderId].status == "PreSubmitted" and views[stop.orderId].quantity == 500
    ib.cancelOrder(parent)
    assert wait_for(ib, lambda: entry.orderStatus.status == "Cancelled"), entry.log
    assert wait_for(ib, lambda: {v.order_id: v for v in gw.orders()}[stop.orderId].quantity == 200)
    gw.limit_liquidity("SPY", None)
    gw.advance_to("2024-03-07 12:00")    # Mar 6 trades down to 97, Mar 7 to 96: above the stop, no fill
    assert {v.order_id: v for v in gw.orders()}[stop.orderId].status == "PreSubmitted"   # a resting stop
    assert gw.positions()["SPY"].quantity == 200
    assert child.order.orderId == stop.orderId


def test_a_new_order_under_an_id_below_one_already_used_is_refused_with_103(ib_lib, make_gateway, connect):
    """IB: a new order's id must be above every id the client used; one below is 'Duplicate order id'."""
    gw, ib, contract = build(ib_lib, make_gateway, connect, client_id=8)
    errors = []
    ib.errorEvent += lambda req_id, code, *rest: errors.append((req_id, code))
    high = ib_lib.LimitOrder("BUY", 1, 50.0, tif="GTC")
    high.orderId = ib.client.getReqId() + 5
    placed = ib.placeOrder(contract, high)
    assert wait_for(ib, lambda: placed.orderStatus.status == "Submitted")
    low = ib_lib.LimitOrder("BUY", 1, 51.0, tif="GTC")
    low.orderId = high.orderId - 3                       # never used, but below one that was
    ib.placeOrder(contract, low)
    assert wait_for(ib, lambda: (low.orderId, 103) in errors), errors
    assert [v.order_id for v in gw.orders()] == [high.orderId]
