"""Every message the gateway sends decodes cleanly in both libraries; placeOrder from both decodes here."""
from __future__ import annotations

import datetime as dt
import importlib

import pytest

from runner.sim import layouts
from runner.sim.account import Execution
from runner.sim.contracts import ContractBook
from runner.sim.orders import OrderTicket, SimOrder
from runner.sim.requests import read_place_order
from runner.sim.wire import decode_payload, encode_message

LISTING = ContractBook.for_symbols(["SPY"]).by_symbol("SPY")
WHEN = dt.datetime(2024, 3, 5, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


class _Recorder:
    """Stands in for a library's wrapper: records every callback."""

    def __init__(self):
        self.calls: list[tuple[str, tuple]] = []
        self.defaultTimezone = dt.timezone.utc
        self.ib = type("IBStub", (), {"TimezoneTWS": None})()

    def __getattr__(self, name):
        return lambda *args: self.calls.append((name, args))


def _decode(lib_name: str, fields: list) -> list[tuple[str, tuple]]:
    decoder_module = importlib.import_module(f"{lib_name}.decoder")
    recorder = _Recorder()
    decoder = decoder_module.Decoder(recorder, layouts.SERVER_VERSION)
    decoder.interpret(decode_payload(encode_message(fields)[4:]))
    return recorder.calls


def _order(**changes) -> SimOrder:
    ticket = OrderTicket(order_id=12, con_id=LISTING.con_id, symbol="SPY", sec_type="STK", exchange="SMART",
                         currency="USD", action="SELL", quantity=25.0, order_type="STP LMT", lmt_price=99.5,
                         aux_price=100.0, tif="GTC", oca_group="g1", oca_type=3, order_ref="ref-7", parent_id=11)
    order = SimOrder(ticket=ticket, client_id=4, perm_id=1_000_123, received_at=0.0, status="PreSubmitted")
    for key, value in changes.items():
        setattr(order, key, value)
    return order


EXECUTION = Execution("0000abcd.00000001.01.01", 1_000_123, 12, 4, "SPY", "SLD", 25.0, 100.0, 0.0, 25.0, 100.0,
                      "ref-7", 1.0, -12.5, "DU1234567")


@pytest.mark.parametrize("lib_name", ["ib_insync", "ib_async"])
@pytest.mark.parametrize("fields, callback", [
    (layouts.next_valid_id(5), "nextValidId"),
    (layouts.managed_accounts(["DU1234567"]), "managedAccounts"),
    (layouts.error(-1, 2104, "ok"), "error"),
    (layouts.contract_details(3, LISTING, "20240305:0930-20240305:1600", "SMART"), "contractDetails"),
    (layouts.contract_details_end(3), "contractDetailsEnd"),
    (layouts.order_status(_order()), "orderStatus"),
    (layouts.open_order(_order(), LISTING, "DU1234567"), "openOrder"),
    (layouts.completed_order(_order(status="Filled", filled=25.0), LISTING, "DU1234567", WHEN), "completedOrder"),
    (layouts.execution(-1, EXECUTION, LISTING, WHEN), "execDetails"),
    (layouts.commission_report(EXECUTION), "commissionReport"),
    (layouts.position("DU1234567", LISTING, 25.0, 100.04), "position"),
    (layouts.position_multi(9, "DU1234567", LISTING, 25.0, 100.04), "positionMulti"),
    (layouts.portfolio_value(LISTING, 25.0, 101.0, 100.04, 0.0, "DU1234567"), "updatePortfolio"),
    (layouts.account_value("NetLiquidation", "100000.00", "USD", "DU1234567"), "updateAccountValue"),
    (layouts.account_update_multi(9, "DU1234567", "NetLiquidation", "1.00", "USD"), "accountUpdateMulti"),
    (layouts.account_time(WHEN), "updateAccountTime"),
    (layouts.account_download_end("DU1234567"), "accountDownloadEnd"),
    (layouts.historical_data(2, "a", "b", [("20240305", 1.0, 2.0, 0.5, 1.5, 100, 1.3, 1)]), "historicalDataEnd"),
    (layouts.realtime_bar(2, 1709650800, 1.0, 2.0, 0.5, 1.5, 100.0, 1.3, 1), "realtimeBar"),
    (layouts.head_timestamp(2, "20230103-14:30:00"), "headTimestamp"),
    (layouts.current_time(1709650800), "currentTime"),
    (layouts.completed_orders_end(), "completedOrdersEnd"),
    (layouts.executions_end(2), "execDetailsEnd"),
])
def test_layout_decodes_in_both_libraries(lib_name, fields, callback):
    calls = _decode(lib_name, fields)
    assert [name for name, _ in calls][-1] == callback


@pytest.mark.parametrize("lib_name", ["ib_insync", "ib_async"])
def test_open_order_and_execution_values_survive_decoding(lib_name):
    name, (order_id, contract, order, state) = _decode(lib_name, layouts.open_order(_order(), LISTING, "DU1"))[0]
    assert (order_id, contract.conId, order.orderType, order.lmtPrice, order.auxPrice) == (12, 756733, "STP LMT",
                                                                                           99.5, 100.0)
    assert (order.permId, order.clientId, order.parentId, order.ocaGroup, order.ocaType, order.orderRef) == (
        1_000_123, 4, 11, "g1", 3, "ref-7")
    assert state.status == "PreSubmitted" and order.totalQuantity == 25.0
    name, (req_id, contract, execution) = _decode(lib_name, layouts.execution(-1, EXECUTION, LISTING, WHEN))[0]
    assert (execution.permId, execution.shares, execution.price, execution.side) == (1_000_123, 25.0, 100.0, "SLD")
    assert execution.time == WHEN.astimezone(dt.timezone.utc)


@pytest.mark.parametrize("lib_name", ["ib_insync", "ib_async"])
def test_place_order_from_each_library_decodes_to_the_same_ticket(lib_name):
    lib = importlib.import_module(lib_name)
    client = lib.client.Client(_Recorder())
    sent: list[bytes] = []
    client.conn.sendMsg = sent.append
    client.connState = client.CONNECTED
    client._serverVersion = layouts.SERVER_VERSION
    order = lib.Order(action="SELL", totalQuantity=25, orderType="TRAIL", auxPrice=1.5, trailStopPrice=98.0,
                      tif="GTC", ocaGroup="g1", ocaType=2, orderRef="ref-9", parentId=11, transmit=False)
    client.placeOrder(12, lib.Stock("SPY", "SMART", "USD"), order)
    ticket = read_place_order(decode_payload(sent[0][4:]))
    assert (ticket.order_id, ticket.symbol, ticket.action, ticket.quantity, ticket.order_type) == (
        12, "SPY", "SELL", 25.0, "TRAIL")
    assert (ticket.aux_price, ticket.trail_stop_price, ticket.lmt_price, ticket.tif) == (1.5, 98.0, None, "GTC")
    assert (ticket.oca_group, ticket.oca_type, ticket.order_ref, ticket.parent_id, ticket.transmit) == (
        "g1", 2, "ref-9", 11, False)
    assert ticket.what_if is False
