"""Keep historical-data requests inside IB's pacing rules, so that a long fetch never provokes error 162.

IB's rules (docs/playbooks.md, "IB data limits"):

* no identical request (contract, end, duration, bar size, data type, RTH) within 15 s;
* no 6th request for one contract (and data type) within 2 s;
* no 61st request within 10 minutes.

Contract of :class:`PacingLimiter`:

- ``await limiter.acquire(key, contract)`` returns when sending that request
  now keeps every rule, and records it; ``limiter.release(ticket)`` marks the
  moment its answer (or error) arrived. The gateway receives a request between
  those two moments, so windows are measured from the answer of the earlier
  request to the sending of the later one: the rules hold whatever the latency.
- Every request sent counts, also those refused (IB counts them too).
- ``time_scale`` shrinks every window and back-off (0.01 turns 10 minutes into
  6 seconds), as the simulated gateway's guard does; ``clock`` and ``sleep``
  can be injected, so tests run on a fake clock.
- :meth:`PacingLimiter.eta` is the least time ``n`` more requests can take.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Hashable


@dataclass(frozen=True)
class PacingRules:
    """IB's historical-data limits, in seconds (real IB time)."""

    identical_window: float = 15.0
    burst_window: float = 2.0
    burst_limit: int = 5
    long_window: float = 600.0
    long_limit: int = 60
    #: Kept on top of every window: absorbs clock granularity.
    margin: float = 0.05


@dataclass
class Ticket:
    """One request the limiter let through; ``at`` becomes its answer time on release."""

    key: Hashable
    contract: Hashable
    at: float
    sent: float = field(default=0.0)


class PacingLimiter:
    """Waits as long as IB's rules require before each historical request (see module doc)."""

    def __init__(self, rules: PacingRules = PacingRules(), time_scale: float = 1.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.rules = rules
        self.time_scale = time_scale
        self.clock = clock
        self.sleep = sleep
        self._sent: deque[Ticket] = deque()
        self.waited = 0.0        # seconds (scaled) spent waiting for the rules
        self.requests = 0

    def identical_window(self) -> float:
        """Seconds (scaled) within which IB refuses a repeat of the same request."""
        return self._window(self.rules.identical_window)

    def _window(self, seconds: float) -> float:
        return (seconds + self.rules.margin) * self.time_scale

    def delay(self, key: Hashable, contract: Hashable) -> float:
        """Seconds to wait before a request with this ``key`` for ``contract`` may be sent."""
        r = self.rules
        now = self.clock()
        self._forget(now)
        wait = 0.0
        sent = list(self._sent)
        if len(sent) >= r.long_limit:
            wait = max(wait, sent[-r.long_limit].at + self._window(r.long_window) - now)
        for t in sent:
            if t.key == key:
                wait = max(wait, t.at + self._window(r.identical_window) - now)
        same = [t for t in sent if t.contract == contract]
        if len(same) >= r.burst_limit:
            wait = max(wait, same[-r.burst_limit].at + self._window(r.burst_window) - now)
        return max(wait, 0.0)

    async def acquire(self, key: Hashable, contract: Hashable) -> Ticket:
        """Wait until the request may be sent; record and return its ticket."""
        while True:
            wait = self.delay(key, contract)
            if wait <= 0:
                break
            self.waited += wait
            await self.sleep(wait)
        now = self.clock()
        ticket = Ticket(key, contract, now, now)
        self._sent.append(ticket)
        self.requests += 1
        return ticket

    def release(self, ticket: Ticket) -> None:
        """The answer (bars or an error) to ``ticket`` has arrived."""
        ticket.at = max(ticket.at, self.clock())

    def forget(self, ticket: Ticket) -> None:
        """Leave out a request the gateway refused for pacing (the caller backs off, then sends it again)."""
        self._sent = deque(t for t in self._sent if t is not ticket)

    async def pause(self, seconds: float) -> None:
        """Back off ``seconds`` of IB time (scaled like the windows)."""
        await self.sleep(seconds * self.time_scale)

    def eta(self, n: int) -> float:
        """Least time (scaled seconds) until ``n`` more distinct requests for one contract have been sent."""
        if n <= 0:
            return 0.0
        r = self.rules
        now = self.clock()
        self._forget(now)
        times = [t.at for t in self._sent]
        start = len(times)
        for _ in range(n):
            at = times[-1] if times else now
            at = max(at, now)
            if len(times) >= r.long_limit:
                at = max(at, times[-r.long_limit] + self._window(r.long_window))
            if len(times) >= r.burst_limit:
                at = max(at, times[-r.burst_limit] + self._window(r.burst_window))
            times.append(at)
        return max(times[-1] - now, 0.0) if len(times) > start else 0.0

    def _forget(self, now: float) -> None:
        keep = self._window(max(self.rules.long_window, self.rules.identical_window, self.rules.burst_window))
        while self._sent and now - self._sent[0].at >= keep:
            self._sent.popleft()


def minimum_seconds(requests: int, rules: PacingRules = PacingRules()) -> float:
    """Least real-IB time for ``requests`` distinct requests of one contract, sent back to back."""
    limiter = PacingLimiter(PacingRules(**{**rules.__dict__, "margin": 0.0}), clock=lambda: 0.0)
    return limiter.eta(requests)
