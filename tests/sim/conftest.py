"""Fixtures for the simulated gateway's tests: both IB client libraries, small bar sets, bounded waits."""
from __future__ import annotations

import asyncio
import importlib
import logging

import pytest

from runner.sim import SimulatedGateway

from sim_data import PATIENCE

LIBRARIES = ["ib_insync", "ib_async"]
# Log lines of the client libraries that mean the simulator sent something they could not decode.
DECODER_TROUBLE = ("Error handling fields", "Error for ", "No order found", "Traceback")


@pytest.fixture(autouse=True)
def client_event_loop():
    """The sync IB API runs on the main thread's loop; other tests may have closed or unset it."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
        if loop.is_closed():
            raise RuntimeError("closed")
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    yield


@pytest.fixture(params=LIBRARIES)
def ib_lib(request):
    """The client library under test (every client test runs with both)."""
    return importlib.import_module(request.param)


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += " Traceback"
        self.lines.append(f"{record.name}: {text}")


@pytest.fixture(autouse=True)
def no_decoder_errors():
    """Fail a test when a client library logs that it could not handle a message."""
    collector = _Collector()
    loggers = [logging.getLogger(name) for name in LIBRARIES]
    for lib_logger in loggers:
        lib_logger.addHandler(collector)
    yield collector
    for lib_logger in loggers:
        lib_logger.removeHandler(collector)
    trouble = [line for line in collector.lines if any(mark in line for mark in DECODER_TROUBLE)]
    assert not trouble, "client library could not handle messages:\n" + "\n".join(trouble)


@pytest.fixture
def make_gateway():
    """Start gateways (own port each, stopped after the test); defaults suit fast tests."""
    started: list[SimulatedGateway] = []

    def factory(bars, **options) -> SimulatedGateway:
        options.setdefault("speed", 0)
        options.setdefault("paused", True)
        options.setdefault("wire_log", False)
        options.setdefault("session_pause", 0.005)
        gw = SimulatedGateway(bars, **options).start()
        started.append(gw)
        return gw

    yield factory
    for gw in started:
        gw.stop()


@pytest.fixture
def connect():
    """Connect IB clients (disconnected after the test)."""
    clients = []

    def factory(lib, port: int, client_id: int = 1, timeout: float = PATIENCE):
        ib = lib.IB()
        ib.connect("127.0.0.1", port, clientId=client_id, timeout=timeout)
        clients.append(ib)
        return ib

    yield factory
    for ib in clients:
        if ib.isConnected():
            ib.disconnect()
