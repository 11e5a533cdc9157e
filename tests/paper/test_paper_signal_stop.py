"""A SIGTERM or Ctrl-C ends a paper session even when it arrives while the main thread holds a lock.

The signal interrupts the main thread anywhere: inside status.json's write, inside a log call. A stop done in
the handler itself waits forever on the lock the interrupted code holds (seen with config/paper.yaml: the
session logged "ending the paper session" and never ended).
"""
import os
import signal
import threading

from runner.paper.session import _install_signal_handlers, _restore_signal_handlers

PATIENCE = 60.0   # seconds; an event is awaited, never a speed


class LockedSession:
    """Its stop needs the lock that the main thread holds when the signal arrives."""

    def __init__(self):
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.reason = None

    def stop(self, reason):
        if self.lock.acquire(timeout=PATIENCE):   # in the main thread this can never succeed
            self.reason = reason
            self.lock.release()
            self.stopped.set()


def test_a_signal_arriving_inside_a_lock_still_stops_the_session():
    session = LockedSession()
    previous = _install_signal_handlers(session)
    try:
        with session.lock:                     # as SessionStatus.write holds its lock
            os.kill(os.getpid(), signal.SIGTERM)
            assert not session.stopped.is_set()
        assert session.stopped.wait(PATIENCE), "the stop waited on the lock the interrupted code held"
        assert session.reason == "SIGTERM received"
    finally:
        _restore_signal_handlers(previous)
