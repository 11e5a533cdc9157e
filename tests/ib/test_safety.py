"""Paper only: live ports refused before connecting, live accounts refused after; unreachable gateways."""
import socket

import pytest

from runner.errors import GatewayError, SafetyError
from runner.ib.ib_config import IBConfig
from runner.ib.safety import check_accounts, mask_account
from runner.ib.store import IBStore


@pytest.mark.parametrize("port", [4001, 7496])
def test_live_ports_are_refused_before_connecting(port, library):
    store = IBStore(IBConfig(port=port, library=library))
    with pytest.raises(SafetyError, match=f"{port} is a live-trading port"):
        store.connect()
    assert store.ib is None, "no client was even created"


def test_unreachable_gateway_names_host_and_port(library, free_port):
    store = IBStore(IBConfig(port=free_port, library=library, connect_timeout=2))
    with pytest.raises(GatewayError, match=f"127.0.0.1:{free_port}"):
        store.connect()


def test_silent_listener_times_out_with_a_gateway_error(library):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        store = IBStore(IBConfig(port=port, library=library, connect_timeout=1))
        with pytest.raises(GatewayError, match=f"127.0.0.1:{port}.*handshake"):
            store.connect()
    finally:
        server.close()


def test_live_account_is_refused():
    with pytest.raises(SafetyError, match="non-paper account"):
        check_accounts(["U7654321"], None)
    with pytest.raises(SafetyError, match="does not manage"):
        check_accounts(["DU1111111"], "DU2222222")
    assert check_accounts(["DU1111111"], None) == "DU1111111"


def test_account_ids_are_masked():
    assert mask_account("DU1234567") == "DU***567"
    assert "1234" not in mask_account("U1234567")
