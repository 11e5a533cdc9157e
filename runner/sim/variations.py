"""Legal variations of IB Gateway's message stream the simulator can produce, opt-in and seeded.

Contract: ``Variations(wanted, seed)`` answers ``happens(name)`` at each chance a variation has;
``wanted`` maps a name to the probability of it at each chance (a plain name or list of names:
always). Off by default, so the simulator's stream stays the deterministic one the other tests
rely on; with a seed the same run makes the same choices. Each is a message order or content a
real gateway produces (the IB API documentation, or what its users report):

* ``status_first``: a fill's openOrder/orderStatus is sent before its execDetails (IB guarantees
  neither order; both are common).
* ``quiet_live``: a market order going live gets no orderStatus, only its openOrder ("there are
  not guaranteed to be orderStatus callbacks for every change in order status ... with market
  orders ... commonly not", IB's order submission page); its execDetails and Filled come later.
* ``pending_cancel``: a client's cancel is answered PendingCancel first, then error 202 before
  the Cancelled status (the order of those two differs between gateway versions).
* ``api_cancelled``: a client's cancel ends ApiCancelled instead of Cancelled (IB: the state of an
  order cancelled by the API; both libraries count it done).
* ``warn_399``: an order that arrives outside the session, and every MOC/LOC, gets the warning 399
  ("Order Message: ... Warning: your order will not be placed at the exchange until ...") between
  its PreSubmitted and Submitted statuses; the order works on as usual.
* ``farm_notices``: more farm notices at connect (2107 inactive HMDS farm, 2119 farm connecting,
  2108 farm inactive), as a gateway that has been up a while sends them.
* ``last_fill_zero``: the repeated orderStatus of a change carries lastFillPrice 0 (as IB sends
  status repeats that do not come from an execution).
"""
from __future__ import annotations

import random
from typing import Iterable, Mapping

NAMES = frozenset({"status_first", "quiet_live", "pending_cancel", "api_cancelled", "warn_399",
                   "farm_notices", "last_fill_zero"})
#: Every variation at every chance (what the bot's tests run under).
ALL = {name: 1.0 for name in NAMES}

FARM_NOTICES = {
    2107: "HMDS data farm connection is inactive but should be available upon demand.ushmds",
    2119: "Market data farm is connecting:usfarm.nj",
    2108: "Market data farm connection is inactive but should be available upon demand.usfarm.nj",
}


class Variations:
    def __init__(self, wanted: Mapping[str, float] | Iterable[str] | None = None, seed: int = 0):
        if wanted is None:
            wanted = {}
        elif not isinstance(wanted, Mapping):
            wanted = {name: 1.0 for name in wanted}
        unknown = set(wanted) - NAMES
        if unknown:
            raise ValueError(f"unknown gateway variations {sorted(unknown)}; known: {sorted(NAMES)}")
        self.wanted = {name: float(p) for name, p in wanted.items()}
        self._random = random.Random(seed)
        #: How often each variation happened (tests check a variation was exercised).
        self.counts: dict[str, int] = {}

    def happens(self, name: str) -> bool:
        chance = self.wanted.get(name, 0.0)
        if chance <= 0:
            return False
        hit = chance >= 1 or self._random.random() < chance
        if hit:
            self.counts[name] = self.counts.get(name, 0) + 1
        return hit

    def __bool__(self) -> bool:
        return bool(self.wanted)


def warning_399(order, opens_at: str) -> str:
    """IB's text for an order held until the exchange takes it (``opens_at``: when, as IB writes it)."""
    t = order.ticket
    return (f"Order Message:\n{t.action} {t.quantity:g} {t.symbol} SMART\nWarning: your order will not be placed "
            f"at the exchange until {opens_at}")
