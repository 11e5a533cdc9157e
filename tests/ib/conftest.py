"""Fixtures for the IB tests: both client libraries, a guard against swallowed decoder errors, and one against
threads a test leaves running."""
import logging
import socket
import threading

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


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """A test that leaves a non-daemon thread running after it ends (a bot, a server or an executor it never
    stopped) fails, naming the threads: such a thread keeps the interpreter from exiting and runs on into the
    next test. Threads that are ending anyway (e.g. a closed loop's executor workers) are waited for, up to
    ``PATIENCE`` each: an event, never a speed."""
    import sim_follow

    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and not t.daemon]
    for thread in left:
        thread.join(sim_follow.PATIENCE)
    running = [t.name for t in left if t.is_alive()]
    assert not running, f"non-daemon threads still running after the test: {running}"
