"""The simulator is as strict as IB Gateway where the paper bot was caught out (issue 10).

Statuses come PreSubmitted before Submitted and each one twice; a stop rests
PreSubmitted until elected; commission reports trail their execution; larger
orders fill in several executions; MOC/LOC are refused after the cutoff;
executions and completed orders cover the current day only; 1101 ends every
subscription; open orders are pushed at reconnect. Bars as in test_sim_orders.
"""
from __future__ import annotations

import time

import pandas as pd
import pytest

from sim_data import daily_frame, wait_for

BARS = daily_frame([
    (100.0, 101.0, 99.0, 100.5, 1_000_000),   # Mar 4 (history)
    (102.0, 104.0, 101.0, 103.0, 1_000_000),  # Mar 5: open 102 -> low 101 -> high 104 -> close 103
    (100.0, 101.0, 97.0, 98.0, 1_000_000),    # Mar 6
    (98.0, 99.0, 96.0, 97.0, 1_000_000),      # Mar 7
])
# 2024-11-29 (the day after Thanksgiving) closes at 13:00.
EARLY_CLOSE = daily_frame([(100.0, 101.0, 99.0, 100.5, 1_000_000)] * 3, first="2024-11-26")


@pytest.fixture
def setup(ib_lib, make_gateway, connect):
    def build(bars=BARS, client_id=1, **options):
        gw = make_gateway({"SPY": bars}, warmup_sessions=1, **options)
        ib = connect(ib_lib, gw.port, client_id)
        contract = ib_lib.Stock("SPY", "SMART", "USD")
        ib.qualifyContracts(contract)
        return gw, ib, contract
    return build


def wire_statuses(ib) -> list[tuple[int, str]]:
    """Every orderStatus message as it arrives, before the library folds repeats together."""
    seen: list[tuple[int, str]] = []
    original = ib.wrapper.orderStatus

    def counting(orderId, status, *rest, **kw):
        seen.append((orderId, status))
        return original(orderId, status, *rest, **kw)

    ib.wrapper.orderStatus = counting
    return seen


def test_a_new_order_is_presubmitted_then_submitted_and_each_status_comes_twice(ib_lib, setup):
    gw, ib, contract = setup()
    seen = wire_statuses(ib)
    trade = ib.placeOrder(contract, ib_lib.LimitOrder("BUY", 10, 50.0))
    assert wait_for(ib, lambda: len(seen) >= 4)
    oid = trade.order.orderId
    assert [s for i, s in seen if i == oid] == ["PreSubmitted", "PreSubmitted", "Submitted", "Submitted"]
    assert trade.orderStatus.status == "Submitted"


def test_a_stop_rests_presubmitted_until_elected_then_works_before_it_fills(ib_lib, setup):
    gw, ib, contract = setup()
    seen = wire_statuses(ib)
    trade = ib.placeOrder(contract, ib_lib.StopOrder("BUY", 10, 103.5))
    assert wait_for(ib, lambda: len(seen) >= 2)
    assert trade.orderStatus.status == "PreSubmitted"
    gw.advance_to("2024-03-05 17:00")
    assert wait_for(ib, lambda: trade.orderStatus.status == "Filled")
    statuses = [s for i, s in seen if i == trade.order.orderId]
    assert statuses.index("Submitted") < statuses.index("Filled")
    assert "Submitted" not in statuses[:2]
    assert trade.orderStatus.avgFillPrice == pytest.approx(103.5)


def test_the_commission_report_arrives_after_its_execution_and_the_fill_status(ib_lib, setup):
    gw, ib, contract = setup()
    arrivals: list[tuple[str, float]] = []
    ib.execDetailsEvent += lambda trade, fill: arrivals.append(("execution", time.monotonic()))
    ib.commissionReportEvent += lambda trade, fill, report: arrivals.append(("commission", time.monotonic()))
    trade = ib.placeOrder(contract, ib_lib.MarketOrder("BUY", 10))
    trade.filledEvent += lambda t: arrivals.append(("filled", time.monotonic()))
    gw.advance_to("2024-03-05 17:00")
    assert wait_for(ib, lambda: any(kind == "commission" for kind, _ in arrivals))
    kinds = [kind for kind, _ in arrivals]
    assert kinds == ["execution", "filled", "commission"]
    at = dict(arrivals)
    assert at["commission"] - at["execution"] >= 0.09     # scheduled 100-300 ms after the execution
    assert trade.fills[0].commissionReport.commission == pytest.approx(1.0)


def test_a_larger_order_fills_in_several_executions(ib_lib, setup):
    gw, ib, contract = setup(fill_lot=500, cash=1_000_000)
    trade = ib.placeOrder(contract, ib_lib.MarketOrder("BUY", 1200))
    gw.advance_to("2024-03-05 17:00")
    assert wait_for(ib, lambda: trade.orderStatus.status == "Filled" and len(trade.fills) == 3)
    assert [f.execution.shares for f in trade.fills] == [500, 500, 200]
    assert [f.execution.cumQty for f in trade.fills] == [500, 1000, 1200]
    assert gw.positions()["SPY"].quantity == 1200


@pytest.mark.parametrize("bars, before, after", [
    (BARS, "2024-03-05 15:49", "2024-03-05 15:50"),
    (EARLY_CLOSE, "2024-11-29 12:49", "2024-11-29 12:50"),   # 13:00 close: the cutoff is 12:50
])
def test_moc_and_loc_are_refused_from_the_cutoff_on(ib_lib, setup, bars, before, after):
    gw, ib, contract = setup(bars)
    codes = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append((req_id, code))
    gw.advance_to(before)
    early = ib.placeOrder(contract, ib_lib.Order(action="BUY", totalQuantity=10, orderType="MOC"))
    assert wait_for(ib, lambda: early.orderStatus.status == "Submitted")
    gw.advance_to(after)
    late = [ib.placeOrder(contract, ib_lib.Order(action="BUY", totalQuantity=10, orderType="MOC")),
            ib.placeOrder(contract, ib_lib.Order(action="SELL", totalQuantity=10, orderType="LOC", lmtPrice=90.0))]
    assert wait_for(ib, lambda: all(t.orderStatus.status == "Inactive" for t in late))
    assert {(t.order.orderId, 201) for t in late} <= set(codes)
    assert all(t.orderStatus.remaining == 0 for t in late)
    gw.advance_to(pd.Timestamp(after) + pd.Timedelta(hours=4))
    assert wait_for(ib, lambda: early.orderStatus.status == "Filled")
    assert gw.positions()["SPY"].quantity == 10


def test_executions_and_completed_orders_cover_the_current_day_only(ib_lib, setup, connect):
    gw, ib, contract = setup()
    trade = ib.placeOrder(contract, ib_lib.MarketOrder("BUY", 10))
    gw.advance_to("2024-03-05 17:00")
    assert wait_for(ib, lambda: trade.orderStatus.status == "Filled")
    same_day = connect(ib_lib, gw.port, 2)
    assert [f.execution.shares for f in same_day.reqExecutions()] == [10]
    assert len(same_day.reqCompletedOrders(apiOnly=True)) == 1
    gw.advance_to("2024-03-06 09:00")
    next_day = connect(ib_lib, gw.port, 3)
    assert next_day.reqExecutions() == []
    assert next_day.reqCompletedOrders(apiOnly=True) == []
    assert next_day.positions()[0].position == 10, "the position itself is still reported"


def test_1101_ends_every_market_and_account_subscription(ib_lib, setup):
    gw, ib, contract = setup()
    ib.reqRealTimeBars(contract, 5, "TRADES", True)
    assert wait_for(ib, lambda: gw.realtime_subscriptions())
    gw.send_error(1100)
    gw.send_error(1101)
    assert wait_for(ib, lambda: not gw.realtime_subscriptions())
    subscribed = gw._call(lambda: [(s.account_updates, s.positions, bool(s.account_multi))
                                   for s in gw.server.sessions if not s.closed])
    assert subscribed == [(False, False, False)]


@pytest.mark.parametrize("restored_by", [1102, 1101])
def test_while_1100_lasts_orders_fill_but_their_reports_wait_until_connectivity_is_back(ib_lib, setup, restored_by):
    """IB: existing orders work on while the gateway has lost IB; execution reports are delayed until it is back."""
    gw, ib, contract = setup()
    trade = ib.placeOrder(contract, ib_lib.MarketOrder("BUY", 10))
    assert wait_for(ib, lambda: trade.orderStatus.status == "Submitted")
    gw.send_error(1100)
    gw.advance_to("2024-03-05 17:00")
    assert wait_for(ib, lambda: gw.fills()), "the order filled at the exchange"
    ib.reqCurrentTime()   # a round trip: whatever the gateway sent before its answer has arrived
    assert trade.fills == [] and trade.orderStatus.status == "Submitted", "no report while 1100 lasts"
    gw.send_error(restored_by)
    assert wait_for(ib, lambda: trade.orderStatus.status == "Filled" and trade.fills)
    assert wait_for(ib, lambda: all(f.commissionReport.execId for f in trade.fills))
    assert sum(f.execution.shares for f in trade.fills) == 10


def raw_start_api(port: int, client_id: int, seconds: float = 2.0) -> list[list[str]]:
    """Handshake and startApi by hand, then every message the gateway sends unasked for ``seconds``."""
    import socket
    import struct

    from runner.sim.wire import decode_payload, encode_message

    messages: list[list[str]] = []
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as sock:
        body = b"v100..176"
        sock.sendall(b"API\0" + struct.pack(">I", len(body)) + body)
        sock.sendall(encode_message([71, 2, client_id, ""]))
        buffer = b""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            buffer += chunk
            while len(buffer) >= 4 and len(buffer) >= 4 + struct.unpack(">I", buffer[:4])[0]:
                size = struct.unpack(">I", buffer[:4])[0]
                messages.append(decode_payload(buffer[4:4 + size]))
                buffer = buffer[4 + size:]
            if any(m and m[0] == "5" for m in messages) and any(m and m[0] == "3" for m in messages):
                break
    return messages


def test_open_orders_are_pushed_unsolicited_when_the_client_reconnects(ib_lib, setup):
    gw, ib, contract = setup(client_id=5)
    trade = ib.placeOrder(contract, ib_lib.LimitOrder("BUY", 10, 50.0, orderRef="keep-me"))
    assert wait_for(ib, lambda: trade.orderStatus.status == "Submitted")
    ib.disconnect()
    assert wait_for(ib, lambda: not gw.connected_clients())
    messages = raw_start_api(gw.port, 5)    # nothing requested after startApi
    open_orders = [m for m in messages if m[0] == "5"]
    assert open_orders and "keep-me" in open_orders[0]
    assert any(m[0] == "3" and m[2] == "Submitted" for m in messages), "with its status"


def test_next_valid_id_never_goes_back_below_a_refused_order_after_a_reconnect(ib_lib, setup):
    """A restarted bot takes its order ids from nextValidId: an id the gateway saw (even one it refused,
    110 off the tick) is never handed out again, as IB never does."""
    gw, ib, contract = setup(client_id=6)
    kept = ib.placeOrder(contract, ib_lib.LimitOrder("BUY", 1, 50.0))
    assert wait_for(ib, lambda: kept.orderStatus.status == "Submitted")
    errors = []
    ib.errorEvent += lambda req_id, code, *rest: errors.append((req_id, code))
    refused = ib.placeOrder(contract, ib_lib.LimitOrder("BUY", 1, 50.0012345))
    assert wait_for(ib, lambda: (refused.order.orderId, 110) in errors)
    assert refused.order.orderId > kept.order.orderId
    ib.disconnect()
    assert wait_for(ib, lambda: not gw.connected_clients())
    messages = raw_start_api(gw.port, 6)
    next_valid = [int(m[2]) for m in messages if m[0] == "9"]
    assert next_valid and next_valid[0] > refused.order.orderId, next_valid
