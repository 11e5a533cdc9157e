"""Fixtures for the IB tests: both client libraries, and a guard against swallowed decoder errors."""
import logging
import socket

import pytest

LIBRARIES = ["ib_insync", "ib_async"]


@pytest.fixture(params=LIBRARIES)
def library(request):
    """Each IB test runs once per client library."""
    return request.param


class _DecoderErrors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        if "Error handling fields" in record.getMessage() or "Decode error" in record.getMessage():
            self.records.append(record.getMessage())


@pytest.fixture(autouse=True)
def no_decoder_errors():
    """The libraries swallow decoder exceptions and only log them: fail the test on such a line."""
    handler = _DecoderErrors()
    loggers = [logging.getLogger(name) for name in ("ib_insync", "ib_async")]
    for lg in loggers:
        lg.addHandler(handler)
    yield
    for lg in loggers:
        lg.removeHandler(handler)
    assert not handler.records, handler.records


@pytest.fixture
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
