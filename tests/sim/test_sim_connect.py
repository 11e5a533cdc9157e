"""Handshake and connection life: both client libraries connect promptly and see a gateway's greeting."""
from __future__ import annotations

import asyncio
import logging

import pytest

from sim_data import PATIENCE, random_daily, wait_for


class _TimedOut(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        if "timed out" in record.getMessage():
            self.lines.append(record.getMessage())


def test_connect_is_prompt_and_greets_like_a_gateway(ib_lib, make_gateway, connect):
    """Prompt: the gateway answers every start-up request the library waits for (none times out), an event
    and not a speed, so a loaded machine cannot fail it; a request left unanswered shows as "timed out"."""
    gw = make_gateway({"SPY": random_daily(30)}, warmup_sessions=10)
    notices = []
    ib = ib_lib.IB()
    ib.errorEvent += lambda req_id, code, *rest: notices.append(code)
    timed_out = _TimedOut()
    library_log = logging.getLogger(ib_lib.__name__)
    library_log.addHandler(timed_out)
    try:
        ib.connect("127.0.0.1", gw.port, clientId=7, timeout=PATIENCE)
    finally:
        library_log.removeHandler(timed_out)
    try:
        assert timed_out.lines == []
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


def refused_connect(ib_lib, port: int, client_id: int) -> list[int]:
    """Connect with ``client_id`` and return the error codes heard, once the gateway has closed the socket.

    The libraries only give up on a refused connect at their timeout: wait for the refusal itself (the
    socket closed by the gateway) instead of racing a short timeout against a loaded machine.
    """
    ib = ib_lib.IB()
    codes = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
    attempt = asyncio.get_event_loop().create_task(
        ib.connectAsync("127.0.0.1", port, clientId=client_id, timeout=PATIENCE))
    try:
        assert wait_for(ib, lambda: codes and not ib.client.isConnected()), "the gateway closes the socket"
        assert not ib.isConnected(), "refused, not connected"
    finally:
        attempt.cancel()
        wait_for(ib, attempt.done)
        ib.disconnect()
    return codes


def test_duplicate_client_id_is_refused_with_326(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_daily(5)})
    connect(ib_lib, gw.port, client_id=3)
    codes = refused_connect(ib_lib, gw.port, 3)
    assert 326 in codes
    assert gw.connected_clients() == [3]


def test_reserved_client_id_fault_gives_326_and_several_clients_coexist(ib_lib, make_gateway, connect):
    gw = make_gateway({"SPY": random_daily(5)})
    gw.reserve_client_id(9)
    codes = refused_connect(ib_lib, gw.port, 9)
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
