"""State across reconnects, dropped connections, gateway restarts, connectivity notices, the wire log."""
from __future__ import annotations

import pytest
import pandas as pd
from loguru import logger

from sim_data import PATIENCE, qualified_spy, random_daily, wait_for



def test_a_reconnecting_client_sees_its_orders_positions_and_executions(ib_lib, make_gateway, connect):
    daily = random_daily(10)
    gw = make_gateway({"SPY": daily}, warmup_sessions=2)
    first = connect(ib_lib, gw.port, client_id=4)
    spy = qualified_spy(first, ib_lib)
    bought = first.placeOrder(spy, ib_lib.MarketOrder("BUY", 10, orderRef="entry-1"))
    resting = first.placeOrder(spy, ib_lib.LimitOrder("SELL", 10, 9999.0, tif="GTC", orderRef="exit-1"))
    gw.advance_to(daily.index[2] + pd.Timedelta(hours=17))
    assert wait_for(first, lambda: bought.orderStatus.status == "Filled")
    first.disconnect()

    again = connect(ib_lib, gw.port, client_id=4)
    assert [(p.contract.symbol, p.position) for p in again.positions()] == [("SPY", 10.0)]
    open_refs = [t.order.orderRef for t in again.openTrades()]
    assert open_refs == ["exit-1"] and again.openTrades()[0].order.permId == resting.order.permId
    fills = again.fills()
    assert [(f.execution.orderRef, f.execution.shares, f.execution.price) for f in fills] == [
        ("entry-1", 10.0, daily.open.iloc[2])]
    assert fills[0].commissionReport.commission == pytest.approx(1.0)
    completed = again.reqCompletedOrders(False)
    assert [(t.order.orderRef, t.orderStatus.status) for t in completed] == [("entry-1", "Filled")]


def test_drop_connections_disconnects_and_allows_reconnect(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_daily(5)})
    ib = connect(ib_lib, gw.port)
    gone = []
    ib.disconnectedEvent += lambda: gone.append(True)
    gw.drop_connections()
    assert wait_for(ib, lambda: gone and not ib.isConnected())
    connect(ib_lib, gw.port)
    assert gw.connected_clients() == [1]


def test_gateway_restart_refuses_connections_for_a_while(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_daily(5)})
    ib = connect(ib_lib, gw.port)
    gw.drop_connections(restart_seconds=600.0)   # refused until end_restart(): no race against a timer
    assert wait_for(ib, lambda: not ib.isConnected())
    with pytest.raises(ConnectionRefusedError):
        ib_lib.IB().connect("127.0.0.1", gw.port, clientId=2, timeout=PATIENCE)
    gw.end_restart()
    connect(ib_lib, gw.port, client_id=2)


def test_a_restart_ends_by_itself_after_its_seconds(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_daily(5)})
    ib = connect(ib_lib, gw.port)
    gw.drop_connections(restart_seconds=0.3)
    assert wait_for(ib, lambda: not ib.isConnected())

    def listening() -> bool:
        try:
            connect(ib_lib, gw.port, client_id=2)
            return True
        except ConnectionRefusedError:
            return False
    assert wait_for(ib, listening), "the gateway listens again once its restart is over"
    assert gw.connected_clients() == [2]


def test_connectivity_notices_reach_the_client_and_gate_the_bar_stream(ib_lib, make_gateway, connect):
    daily = random_daily(6)
    gw = make_gateway({"SPY": daily})
    ib = connect(ib_lib, gw.port)
    codes = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
    bars = ib.reqRealTimeBars(qualified_spy(ib, ib_lib), 5, "TRADES", True)
    gw.send_error(1100)
    assert wait_for(ib, lambda: 1100 in codes)
    gw.advance_to(daily.index[0].replace(hour=17))   # returns once the replay has passed the bars' moment
    ib.reqCurrentTime()   # a round trip: any bar sent before its answer has now reached the client
    assert len(bars) == 0                                     # no data while connectivity is lost
    gw.send_error(1102)
    gw.advance_to(daily.index[1].replace(hour=17))
    assert wait_for(ib, lambda: len(bars) == 4)               # maintained: the stream resumes
    gw.send_error(1101)
    gw.advance_to(daily.index[2].replace(hour=17))
    ib.reqCurrentTime()
    assert len(bars) == 4                                     # data lost: subscriptions must be renewed
    assert wait_for(ib, lambda: codes[-3:] == [1100, 1102, 1101])


def test_wire_log_masks_the_account(ib_lib, make_gateway, connect):
    lines = []
    sink = logger.add(lambda m: lines.append(str(m)), level="DEBUG", format="{message}")
    try:
        gw = make_gateway({"SPY": random_daily(5)}, wire_log=True)
        connect(ib_lib, gw.port)
    finally:
        logger.remove(sink)
    wire = [line for line in lines if " >> " in line or " << " in line]
    assert any(line.startswith("sim[#1 client 1] >> 15,1,") for line in wire)
    assert not any("DU1234567" in line for line in wire)
    assert any("DU*****67" in line for line in wire)


# -- a real-time feed that stops without a word (issue 10: the bar subscription dies, or the farm drops) --
def _quiet_round_trip(ib) -> None:
    """Every bar the gateway sent before the answer has reached the client (reqCurrentTime answers)."""
    assert ib.reqCurrentTime() is not None


def test_a_stalled_subscription_stops_its_bars_silently_and_a_new_request_streams_again(
        ib_lib, make_gateway, connect):
    daily = random_daily(6)
    gw = make_gateway({"SPY": daily, "IWM": random_daily(6, seed=8)})
    ib = connect(ib_lib, gw.port)
    codes = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
    spy = qualified_spy(ib, ib_lib)
    iwm = ib_lib.Stock("IWM", "SMART", "USD")
    ib.qualifyContracts(iwm)
    spy_bars = ib.reqRealTimeBars(spy, 5, "TRADES", True)
    iwm_bars = ib.reqRealTimeBars(iwm, 5, "TRADES", True)
    gw.advance_to(daily.index[0].replace(hour=17))
    assert wait_for(ib, lambda: len(spy_bars) == 4 and len(iwm_bars) == 4)
    gw.stall_bars("SPY")
    order = ib.placeOrder(spy, ib_lib.MarketOrder("BUY", 10, orderRef="during-stall"))
    gw.advance_to(daily.index[1].replace(hour=17))
    assert wait_for(ib, lambda: len(iwm_bars) == 8), "the other symbol streams on"
    assert wait_for(ib, lambda: order.orderStatus.status == "Filled"), "orders fill during the stall"
    _quiet_round_trip(ib)
    assert len(spy_bars) == 4, "no SPY bar during the stall"
    assert ib.isConnected() and not [c for c in codes if c not in (2104, 2106, 2158)], \
        f"no error code tells of it: {codes}"
    assert gw.realtime_subscriptions() == {1: ["IWM", "SPY"]}, "the subscription is still there, silent"
    again = ib.reqRealTimeBars(spy, 5, "TRADES", True)   # IB: a new request starts a new, live stream
    gw.advance_to(daily.index[2].replace(hour=17))
    assert wait_for(ib, lambda: len(again) == 4)
    _quiet_round_trip(ib)
    assert len(spy_bars) == 4, "the dead subscription stays dead"


def test_a_stalled_farm_silences_old_and_new_subscriptions_until_it_resumes(ib_lib, make_gateway, connect):
    daily = random_daily(6)
    gw = make_gateway({"SPY": daily})
    ib = connect(ib_lib, gw.port)
    codes = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
    spy = qualified_spy(ib, ib_lib)
    bars = ib.reqRealTimeBars(spy, 5, "TRADES", True)
    gw.stall_bars(None, resubscribe_restores=False)   # every symbol, until resume_bars()
    gw.advance_to(daily.index[0].replace(hour=17))
    ib.cancelRealTimeBars(bars)
    again = ib.reqRealTimeBars(spy, 5, "TRADES", True)
    gw.advance_to(daily.index[1].replace(hour=17))
    _quiet_round_trip(ib)
    assert len(bars) == 0 and len(again) == 0
    assert not [c for c in codes if c not in (2104, 2106, 2158)], codes
    gw.resume_bars()
    gw.advance_to(daily.index[2].replace(hour=17))
    assert wait_for(ib, lambda: len(again) == 4), "bars flow again once the fault is over"
