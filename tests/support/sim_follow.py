"""The simulated gateway waits for the bot instead of for the clock: bounded waits on events, shared by the
ib and paper tests (on pytest's ``pythonpath``)."""
from __future__ import annotations

import threading
import time

#: Bounded waits are safety nets against hangs, never a speed requirement: generous, so that a loaded
#: machine only makes a test slower, not red.
PATIENCE = 120.0


def wait_for(condition, timeout: float = PATIENCE, interval: float = 0.02) -> bool:
    """Poll ``condition`` until true or ``timeout`` seconds pass; return its last value.

    The timeout is never below :data:`PATIENCE`: what a test waits for is an event, not a speed.
    """
    timeout = max(timeout, PATIENCE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def streaming(session) -> bool:
    """Every feed of a started ``PaperSession`` has done its backfill and streams (a feed sharing a symbol's
    stream with another may still be backfilling when the first subscribes)."""
    return len(session.store.feeds) == len(session.feeds) and all(
        not f.backfilling for f in session.feeds.values())


def caught_up(gw, store, broker, feeds, interval: float = 0.02, released: threading.Event | None = None) -> None:
    """Block until the bot has acted on everything the gateway sent so far (for a pause hook).

    A round trip first (every message the gateway sent before its answer is then on the store's
    queue); then, once quiet (every commission report sent, the queue empty, no fill waiting for
    its report), two idle polls of every feed *counted from that moment*: a report that comes
    late is booked inside a poll, and the strategy hears of the fill only later in that cycle, so
    polls counted from before it prove nothing (the exits then went out a session late). Quiet
    again after the polls, or it starts over; a last round trip carries the orders the bot sent.
    ``released`` set (the test is stopping the bot) ends the wait at once.
    """
    feeds = list(feeds)
    released = released or threading.Event()
    store.call(store.qualify(feeds[0].p.symbol), timeout=PATIENCE)

    def quiet() -> bool:
        return gw.reports_pending() == 0 and store.events.empty() and not broker.awaiting

    for _ in range(1000):   # each round ends on an event the bot received: bounded by the session's events
        wait_for(lambda: quiet() or released.is_set(), interval=interval)
        marks = {id(f): f.idle_polls for f in feeds}
        wait_for(lambda: all(f.idle_polls >= marks[id(f)] + 2 for f in feeds) or released.is_set(),
                 interval=interval)
        if released.is_set():
            return
        if quiet():
            break
    store.call(store.qualify(feeds[0].p.symbol), timeout=PATIENCE)


def follow(gw, store, broker, feeds, window: float | None = None, interval: float = 0.02) -> threading.Event:
    """Make the gateway wait at every pause (each session close; each bar boundary with a ``bar_pause``)
    until the bot has caught up: never a fixed pause.

    ``window``: wait at bar boundaries only within that many sim seconds of the session's close (the
    close itself always), for playbooks that act only near the close; the bars before it then arrive
    as fast as the gateway sends them, and the first wait inside the window lets the bot catch up.
    Returns an event: set it (then remove the hook) before stopping the bot, so no wait outlives it.
    """
    feeds = list(feeds)

    def wait(released: threading.Event) -> None:
        try:
            caught_up(gw, store, broker, feeds, interval, released)
        except Exception:   # the bot is stopping (loop gone): let the replay go on
            pass
    return follow_with(gw, wait, window)


def follow_with(gw, wait, window: float | None = None) -> threading.Event:
    """The gateway's pause hook behind :func:`follow`: at every pause, ``wait(released)`` (blocking, in the
    gateway's worker thread, its loop serving the bot meanwhile) until the bot has caught up, by whatever
    the caller can see of it (an in-process bot's queues; a subprocess's status.json and journal).
    ``window`` as for :func:`follow`. Returns ``released``: set, every wait ends at once and none begins."""
    last = [None]
    released = threading.Event()

    def hook():
        # Every symbol's bar ends at the same moment and the replay pauses at each boundary; nothing is
        # sent between them, so one wait per sim moment is enough (halves a two-symbol replay).
        replay = gw.replay
        moment = replay.clock.now()
        if moment == last[0]:
            return
        left = replay.seconds_to_close()
        if released.is_set() or (window is not None and left is not None and left > window):
            return
        wait(released)
        last[0] = moment
    gw.set_pause_hook(hook)
    return released


def follow_session(gw, session, window: float | None = None) -> threading.Event:
    """``follow`` for a started ``PaperSession``: its feeds poll quickly, so the idle polls the wait counts
    come soon, and the wait polls as often."""
    for feed in session.feeds.values():
        feed.p.qcheck = 0.005
    return follow(gw, session.store, session.broker, session.feeds.values(), window=window, interval=0.005)
