"""IB's historical-data pacing rules, enforced like the real gateway does.

Contract: ``PacingGuard.check(key, contract_key)`` returns None when the
request may be served (and records it), or the IB error (code, message) of the
violation:

* an identical request (same contract, end, duration, bar size, data type,
  RTH flag) within 15 seconds;
* a 6th request for the same contract within 2 seconds;
* a 61st request within 10 minutes.

Only served requests count towards the windows. The guard reads its own
clock (real monotonic time by default); ``time_scale`` shrinks every window
(0.01 turns 10 minutes into 6 seconds) so tests need not wait, and any clock
callable can be injected.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Hashable

PACING_VIOLATION = (162, "Historical Market Data Service error message:Pacing violation")


@dataclass(frozen=True)
class PacingRules:
    identical_window: float = 15.0
    burst_window: float = 2.0
    burst_limit: int = 5
    long_window: float = 600.0
    long_limit: int = 60


class PacingGuard:
    def __init__(self, rules: PacingRules = PacingRules(), time_scale: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, enabled: bool = True):
        self.rules = rules
        self.time_scale = time_scale
        self.clock = clock
        self.enabled = enabled
        self._served: deque[tuple[float, Hashable, Hashable]] = deque()

    def check(self, request_key: Hashable, contract_key: Hashable) -> tuple[int, str] | None:
        if not self.enabled:
            return None
        now = self.clock()
        r, scale = self.rules, self.time_scale
        while self._served and now - self._served[0][0] >= r.long_window * scale:
            self._served.popleft()
        if len(self._served) >= r.long_limit:
            return PACING_VIOLATION
        recent = [(key, contract) for at, key, contract in self._served
                  if now - at < r.identical_window * scale]
        if any(key == request_key for key, _ in recent):
            return PACING_VIOLATION
        burst = sum(1 for at, _, contract in self._served
                    if contract == contract_key and now - at < r.burst_window * scale)
        if burst >= r.burst_limit:
            return PACING_VIOLATION
        self._served.append((now, request_key, contract_key))
        return None
