"""Handshake and connection life: both client libraries connect promptly and see a gateway's greeting."""
from __future__ import annotations

import time

import pytest

from sim_data import random_daily


def test_connect_is_prompt_and_greets_like_a_gateway(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_daily(30)}, warmup_sessions=10)
    notices = []
    ib = ib_lib.IB()
    ib.errorEvent += lambda req_id, code, *rest: notices.append(code)
    started = time.monotonic()
    ib.connect("127.0.0.1", gw.port, clientId=7, timeout=5)
    try:
        assert time.monotonic() - started < 1.0
        assert ib.managedAccounts() == ["DU1234567"]
        assert ib.client.serverVersion() == 176
        assert {2104, 2106, 2158} <= set(notices)
        values = {v.tag: v.value for v in ib.accountValues() if v.currency in ("USD", "")}
        assert float(values["NetLiquidation"]) == pytest.approx(100_000.0)
        assert gw.connected_clients() == [7]
    finally:
        ib.disconnect()


def test_account_id_is_configurable_for_non_paper_checks(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_daily(5)}, account="U7654321", cash=5_000.0)
    ib = connect(ib_lib, gw.port)
    assert ib.managedAccounts() == ["U7654321"]


def test_duplicate_client_id_is_refused_with_326(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_daily(5)})
    connect(ib_lib, gw.port, client_id=3)
    second = ib_lib.IB()
    codes = []
    second.errorEvent += lambda req_id, code, *rest: codes.append(code)
    with pytest.raises((TimeoutError, ConnectionError, OSError)):
        second.connect("127.0.0.1", gw.port, clientId=3, timeout=1)
    assert 326 in codes
    assert gw.connected_clients() == [3]


def test_reserved_client_id_fault_gives_326_and_several_clients_coexist(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_daily(5)})
    gw.reserve_client_id(9)
    blocked = ib_lib.IB()
    codes = []
    blocked.errorEvent += lambda req_id, code, *rest: codes.append(code)
    with pytest.raises((TimeoutError, ConnectionError, OSError)):
        blocked.connect("127.0.0.1", gw.port, clientId=9, timeout=1)
    assert codes == [326]
    gw.release_client_id(9)
    connect(ib_lib, gw.port, client_id=9)
    connect(ib_lib, gw.port, client_id=10)
    assert gw.connected_clients() == [9, 10]


def test_binds_loopback_only():
    from runner.sim import SimulatedGateway

    with pytest.raises(ValueError, match="loopback"):
        SimulatedGateway({"SPY": random_daily(5)}, host="0.0.0.0")


def test_realtime_subscriptions_are_visible(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_daily(5)})
    ib = connect(ib_lib, gw.port, client_id=5)
    contract = ib_lib.Stock("SPY", "SMART", "USD")
    ib.qualifyContracts(contract)
    ib.reqRealTimeBars(contract, 5, "TRADES", True)
    from sim_data import wait_for

    assert wait_for(ib, lambda: gw.realtime_subscriptions() == {5: ["SPY"]})
