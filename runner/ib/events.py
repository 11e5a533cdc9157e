"""Messages the IB thread hands to the backtrader thread, in arrival order.

They are immutable and carry plain Python values only (no library objects),
so the backtrader side never touches ib_insync / ib_async state.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

#: Errors answering a cancel the gateway could not carry out (10148 "cannot be cancelled, state: ...",
#: 161 "not in a cancellable state" from older gateways): the order is filled or still working.
IGNORED_CANCEL_ERRORS = frozenset({10148, 161})


class SessionEnding(Exception):
    """A wait on the gateway was cut short because the session is ending (``IBStore.interrupt``)."""


class FiveSecondBar(NamedTuple):
    symbol: str
    start: dt.datetime          # tz-aware; IB stamps bars at their start
    open: float
    high: float
    low: float
    close: float
    volume: float


class Gap(NamedTuple):
    """5-second bars of ``symbol`` between ``since`` and ``until`` were missed and could not be re-fetched."""

    symbol: str
    since: dt.datetime
    until: dt.datetime


class Clock(NamedTuple):
    """The gateway's time, polled periodically (completes bars whose slot never came)."""

    now: dt.datetime


class OrderStatus(NamedTuple):
    orderRef: str
    orderId: int
    permId: int
    status: str                 # IB status, normalised by compat.order_status
    filled: float
    remaining: float
    avgFillPrice: float
    errorCode: int = 0          # set when the library cancelled the order because of an error
    message: str = ""


class Execution(NamedTuple):
    orderRef: str
    execId: str
    time: dt.datetime
    symbol: str
    side: str                   # BOT | SLD
    shares: float
    price: float
    replayed: bool = False      # from a reconciliation request, not live


class Commission(NamedTuple):
    execId: str
    commission: float


class Position(NamedTuple):
    symbol: str
    position: float
    avgCost: float


class Connectivity(NamedTuple):
    """``lost`` (1100 or dropped socket), ``restored`` (1102), ``restored_data_lost`` (1101), ``reconnected``."""

    state: str
    message: str = ""


class FeedState(NamedTuple):
    """A live feed's real-time bars stopped with no error (``stalled``) or came back (``flowing``);
    the broker's stall watch (runner/ib/broker_feed_stall.py) reports it for the session's status."""

    feed: str
    state: str                  # stalled | flowing
    since: dt.datetime          # the end of the last bar streamed before the silence
    text: str = ""


class Reconciled(NamedTuple):
    """State of the account right after a (re)connection."""

    cash: float | None
    positions: dict[str, tuple[float, float]]   # symbol -> (position, avgCost)
    open_orders: dict[str, OrderStatus]          # orderRef -> last status (this bot's orders only)
    executions: list[Execution]
    known_orders: dict[str, str] = {}            # orderRef -> status of every order the gateway reports
    booked_execs: frozenset = frozenset()        # execIds already reflected in ``positions`` and ``cash``


class Fatal(NamedTuple):
    """The IB side failed for good (e.g. reconnecting gave up); the run must stop with this error."""

    error: Any
