"""Every order type fills at the price the documented rules give (runner/sim/matching.py).

Bars (daily, 2024): Mar 4 is history; the clock starts paused at the open of Mar 5.
Mar 5 closes up (path open 102 -> low 101 -> high 104 -> close 103);
Mar 6 gaps down and closes down (open 100 -> high 101 -> low 97 -> close 98).
"""
from __future__ import annotations

import pytest

from sim_data import daily_frame, wait_for

BARS = daily_frame([
    (100.0, 101.0, 99.0, 100.5, 1_000_000),   # Mar 4
    (102.0, 104.0, 101.0, 103.0, 1_000_000),  # Mar 5
    (100.0, 101.0, 97.0, 98.0, 1_000_000),    # Mar 6
    (98.0, 99.0, 96.0, 97.0, 1_000_000),      # Mar 7
])
AFTER_MAR5_CLOSE = "2024-03-05 17:00"
MAR6_END = "2024-03-06 17:00"


@pytest.fixture
def setup(ib_lib, make_gateway, connect):
    def build(**options):
        gw = make_gateway({"SPY": BARS}, warmup_sessions=1, **options)
        ib = connect(ib_lib, gw.port)
        contract = ib_lib.Stock("SPY", "SMART", "USD")
        ib.qualifyContracts(contract)
        return gw, ib, contract
    return build


def place(ib, contract, order):
    trade = ib.placeOrder(contract, order)
    assert wait_for(ib, lambda: trade.orderStatus.status in ("Submitted", "PreSubmitted"))
    return trade


def fill_price(gw, ib, trade, until) -> float:
    gw.advance_to(until)
    assert wait_for(ib, lambda: trade.orderStatus.status == "Filled"), trade.log
    return trade.orderStatus.avgFillPrice


@pytest.mark.parametrize("make_order, expected", [
    (lambda lib: lib.MarketOrder("BUY", 10), 102.0),                       # next bar's open
    (lambda lib: lib.LimitOrder("BUY", 10, 101.5), 101.5),                 # touched on the way down
    (lambda lib: lib.LimitOrder("BUY", 10, 103.0), 102.0),                 # open already below: open
    (lambda lib: lib.StopOrder("BUY", 10, 103.5), 103.5),                  # reached on the way up
    (lambda lib: lib.StopOrder("SELL", 10, 101.5), 101.5),
    (lambda lib: lib.StopLimitOrder("BUY", 10, 103.8, 103.5), 103.5),
    (lambda lib: lib.Order(action="BUY", totalQuantity=10, orderType="MOC"), 103.0),
    (lambda lib: lib.Order(action="BUY", totalQuantity=10, orderType="LOC", lmtPrice=103.5), 103.0),
    (lambda lib: lib.Order(action="SELL", totalQuantity=10, orderType="TRAIL", auxPrice=1.0), 101.0),
])
def test_fill_price_on_the_next_session(ib_lib, setup, make_order, expected):
    gw, ib, contract = setup()
    trade = place(ib, contract, make_order(ib_lib))
    assert fill_price(gw, ib, trade, AFTER_MAR5_CLOSE) == pytest.approx(expected)
    assert wait_for(ib, lambda: trade.fills and trade.fills[0].commissionReport.commission > 0)
    assert trade.fills[0].commissionReport.commission == pytest.approx(1.0)   # minimum applies
    assert trade.fills[0].execution.permId == trade.order.permId != 0


def test_gap_through_stop_fills_at_the_open_and_moc_after_close_fills_next_close(ib_lib, setup):
    gw, ib, contract = setup()
    gw.advance_to(AFTER_MAR5_CLOSE)
    stop = place(ib, contract, ib_lib.StopOrder("SELL", 5, 100.5))
    moc = place(ib, contract, ib_lib.Order(action="BUY", totalQuantity=5, orderType="MOC"))
    assert fill_price(gw, ib, stop, MAR6_END) == 100.0
    assert fill_price(gw, ib, moc, MAR6_END) == 98.0


def test_loc_that_misses_its_limit_is_cancelled_at_the_close(ib_lib, setup):
    gw, ib, contract = setup()
    trade = place(ib, contract, ib_lib.Order(action="BUY", totalQuantity=10, orderType="LOC", lmtPrice=102.5))
    gw.advance_to(AFTER_MAR5_CLOSE)
    assert wait_for(ib, lambda: trade.orderStatus.status == "Cancelled")
    assert not gw.fills()


def test_day_orders_expire_at_the_close_and_gtc_orders_stay(ib_lib, setup):
    gw, ib, contract = setup()
    day = place(ib, contract, ib_lib.LimitOrder("BUY", 10, 50.0))
    gtc = place(ib, contract, ib_lib.LimitOrder("BUY", 10, 50.0, tif="GTC"))
    gw.advance_to(AFTER_MAR5_CLOSE)
    assert wait_for(ib, lambda: day.orderStatus.status == "Cancelled")
    assert gtc.orderStatus.status == "Submitted"


def test_bracket_children_work_after_the_parent_fills_and_cancel_each_other(ib_lib, setup):
    gw, ib, contract = setup()
    parent, take_profit, stop_loss = ib.bracketOrder("BUY", 10, 101.5, 106.0, 99.0)
    for order in (parent, take_profit, stop_loss):
        order.tif = "GTC"
    trades = [ib.placeOrder(contract, o) for o in (parent, take_profit, stop_loss)]
    assert wait_for(ib, lambda: trades[2].orderStatus.status == "PreSubmitted")
    assert fill_price(gw, ib, trades[0], AFTER_MAR5_CLOSE) == 101.5
    assert trades[1].orderStatus.status == "Submitted"          # working since the parent filled
    assert fill_price(gw, ib, trades[2], MAR6_END) == 99.0       # stop hit on Mar 6's way down
    assert wait_for(ib, lambda: trades[1].orderStatus.status == "Cancelled")
    assert gw.positions() == {}


def test_orders_attached_to_a_working_parent_wait_for_it_and_go_with_it(ib_lib, setup):
    gw, ib, contract = setup()
    parent = place(ib, contract, ib_lib.LimitOrder("BUY", 10, 50.0, tif="GTC"))   # never fills
    attached = ib_lib.LimitOrder("SELL", 10, 101.5, tif="GTC")                    # would fill on Mar 5
    attached.parentId = parent.order.orderId
    child = place(ib, contract, attached)
    assert child.orderStatus.status == "PreSubmitted", "held until the parent fills"
    gw.advance_to(AFTER_MAR5_CLOSE)
    assert not gw.fills(), "an attached order never works before its parent fills"
    ib.cancelOrder(parent.order)
    assert wait_for(ib, lambda: child.orderStatus.status == "Cancelled"), child.log


def test_an_order_attached_to_a_refused_parent_is_refused(ib_lib, setup):
    gw, ib, contract = setup()
    gw.reject_next_orders(1, reason="no trading permissions")
    parent = ib.placeOrder(contract, ib_lib.MarketOrder("BUY", 10))
    assert wait_for(ib, lambda: parent.orderStatus.status in ("Cancelled", "Inactive"))
    attached = ib_lib.LimitOrder("SELL", 10, 101.5, tif="GTC")
    attached.parentId = parent.order.orderId
    child = ib.placeOrder(contract, attached)
    assert wait_for(ib, lambda: child.orderStatus.status in ("Cancelled", "Inactive")), child.log
    gw.advance_to(AFTER_MAR5_CLOSE)
    assert not gw.fills() and gw.positions() == {}


def test_oca_group_cancels_the_others_at_the_first_fill(ib_lib, setup):
    gw, ib, contract = setup()
    orders = ib.oneCancelsAll([ib_lib.LimitOrder("BUY", 10, 101.5), ib_lib.StopOrder("BUY", 10, 103.5)],
                              "oca-1", 1)
    trades = [place(ib, contract, o) for o in orders]
    assert fill_price(gw, ib, trades[0], AFTER_MAR5_CLOSE) == 101.5
    assert wait_for(ib, lambda: trades[1].orderStatus.status == "Cancelled")


def test_partial_fills_split_the_order_into_executions(ib_lib, setup):
    gw, ib, contract = setup(partial_fills=3)
    trade = place(ib, contract, ib_lib.MarketOrder("BUY", 10))
    statuses = []
    trade.statusEvent += lambda t: statuses.append((t.orderStatus.status, t.orderStatus.filled))
    assert fill_price(gw, ib, trade, AFTER_MAR5_CLOSE) == 102.0
    assert wait_for(ib, lambda: len(trade.fills) == 3)
    assert [f.execution.shares for f in trade.fills] == [3, 3, 4]
    assert ("Submitted", 3.0) in statuses and statuses[-1] == ("Filled", 10.0)
    assert wait_for(ib, lambda: sum(f.commissionReport.commission for f in trade.fills) == pytest.approx(1.0))


def test_cancel_gives_cancelled_and_error_202(ib_lib, setup):
    gw, ib, contract = setup()
    codes = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
    trade = place(ib, contract, ib_lib.LimitOrder("BUY", 10, 50.0, tif="GTC", orderRef="ref-1"))
    ib.cancelOrder(trade.order)
    assert wait_for(ib, lambda: trade.orderStatus.status == "Cancelled" and 202 in codes)
    assert gw.orders()[0].status == "Cancelled" and gw.orders()[0].order_ref == "ref-1"


def test_global_cancel_cancels_every_working_order(ib_lib, setup):
    gw, ib, contract = setup()
    trades = [place(ib, contract, ib_lib.LimitOrder("BUY", 1, 50.0 + i, tif="GTC")) for i in range(3)]
    ib.reqGlobalCancel()
    assert wait_for(ib, lambda: all(t.orderStatus.status == "Cancelled" for t in trades))


def test_rejected_order_gets_error_201_and_never_fills(ib_lib, setup):
    gw, ib, contract = setup()
    codes = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
    gw.reject_next_orders(1, reason="insufficient margin")
    trade = ib.placeOrder(contract, ib_lib.MarketOrder("BUY", 10))
    assert wait_for(ib, lambda: 201 in codes and trade.orderStatus.status == "Inactive")
    gw.advance_to(AFTER_MAR5_CLOSE)
    assert not gw.fills()


def test_modify_a_working_order_keeps_its_perm_id(ib_lib, setup):
    gw, ib, contract = setup()
    trade = place(ib, contract, ib_lib.LimitOrder("BUY", 10, 50.0, tif="GTC"))
    perm_id = trade.order.permId
    trade.order.lmtPrice = 101.5
    ib.placeOrder(contract, trade.order)
    assert wait_for(ib, lambda: gw.orders()[0].lmt_price == 101.5)
    assert fill_price(gw, ib, trade, AFTER_MAR5_CLOSE) == 101.5
    assert gw.orders()[0].perm_id == perm_id and len(gw.orders()) == 1
    assert gw.orders()[0].modifications == 1, "a modification, not a new order"


def test_account_reflects_fills_cash_and_positions(ib_lib, setup):
    gw, ib, contract = setup()
    trade = place(ib, contract, ib_lib.MarketOrder("BUY", 100))
    fill_price(gw, ib, trade, AFTER_MAR5_CLOSE)
    assert gw.cash() == pytest.approx(100_000 - 100 * 102.0 - 1.0)
    assert wait_for(ib, lambda: any(p.position == 100 for p in ib.positions()))
    position = ib.positions()[0]
    assert position.avgCost == pytest.approx(102.01)                 # IB includes commission
    assert wait_for(ib, lambda: any(p.marketPrice == 103.0 for p in ib.portfolio()))


def errors_of(ib) -> list[tuple[int, int]]:
    codes: list[tuple[int, int]] = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append((req_id, code))
    return codes


@pytest.mark.parametrize("change", [
    lambda order: setattr(order, "action", "SELL"),                                 # another side
    lambda order: (setattr(order, "orderType", "STP"), setattr(order, "auxPrice", 60.0)),   # another type
    lambda order: setattr(order, "lmtPrice", 50.004),                               # off the tick: 110
])
def test_a_modification_ib_refuses_leaves_the_working_order_as_it_was(ib_lib, setup, change):
    """IB: only prices, quantity and the like change under the same orderId; the side or type needs a new
    order (105), and a modified price must be on the tick too (110). The order keeps working unchanged."""
    gw, ib, contract = setup()
    codes = errors_of(ib)
    trade = place(ib, contract, ib_lib.LimitOrder("BUY", 10, 50.0, tif="GTC"))
    oid = trade.order.orderId
    modified = ib_lib.Order(**{k: getattr(trade.order, k) for k in ("orderId", "action", "totalQuantity",
                                                                     "orderType", "lmtPrice", "tif")})
    change(modified)
    ib.placeOrder(contract, modified)
    assert wait_for(ib, lambda: any(i == oid and c in (105, 110) for i, c in codes)), codes
    [view] = gw.orders()
    assert (view.action, view.order_type, view.lmt_price, view.status, view.modifications) == \
        ("BUY", "LMT", 50.0, "Submitted", 0)


def test_modifying_a_filled_order_is_refused_with_104_and_a_cancelled_one_with_103(ib_lib, setup):
    gw, ib, contract = setup()
    codes = errors_of(ib)
    filled = place(ib, contract, ib_lib.MarketOrder("BUY", 10))
    cancelled = place(ib, contract, ib_lib.LimitOrder("BUY", 10, 50.0, tif="GTC"))
    ib.cancelOrder(cancelled.order)
    fill_price(gw, ib, filled, AFTER_MAR5_CLOSE)
    assert wait_for(ib, lambda: cancelled.orderStatus.status == "Cancelled")
    for trade, quantity in ((filled, 20), (cancelled, 5)):
        again = ib_lib.Order(orderId=trade.order.orderId, action="BUY", totalQuantity=quantity,
                             orderType=trade.order.orderType, lmtPrice=trade.order.lmtPrice, tif="GTC")
        ib.client.placeOrder(again.orderId, contract, again)   # on the wire: the library refuses it itself
    assert wait_for(ib, lambda: (filled.order.orderId, 104) in codes and (cancelled.order.orderId, 103) in codes)
    views = {v.order_id: v for v in gw.orders()}
    assert len(views) == 2 and views[filled.order.orderId].quantity == 10 and views[filled.order.orderId].filled == 10
    assert all(v.modifications == 0 for v in views.values())
