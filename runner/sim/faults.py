"""Faults the simulated gateway can inject, and the messages a real gateway uses for them.

Contract: a ``FaultPlan`` holds what is armed; the server consults it.

* ``pacing_codes``: the next historical requests are answered with these
  errors (162 pacing violation, 420 invalid real-time query) and no data.
* ``reserved_client_ids``: connecting with one of these ids gets error 326
  and the socket closed, as when another application holds the id.
* ``connectivity_lost``: set by 1100; while set no real-time bars flow and order statuses,
  executions and commission reports are held back until 1101/1102.
  1101 (restored, data lost) drops every real-time subscription so clients
  must resubscribe; 1102 (restored, data maintained) resumes them.
* ``refuse_until``: during a simulated gateway restart nothing listens.
* ``silent_requests`` / ``silent_symbols``: real-time bars that stop without a word, as when IB's
  subscription silently dies or the market data farm drops: no error code, the socket stays up,
  orders still fill, reqCurrentTime and history still answer. ``silent_requests`` holds
  (session number, reqId) of subscriptions that died: a new reqRealTimeBars streams again (what a
  client's resubscription mends). ``silent_symbols`` (``"*"``: every symbol) silences old and new
  subscriptions alike until the fault is cleared (``SimulatedGateway.resume_bars``).
Order rejects (201) are armed on the exchange (``SimExchange.rejects_pending``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

STANDARD_MESSAGES = {
    162: "Historical Market Data Service error message:Pacing violation",
    326: "Unable to connect as the client id is already in use. Retry with a unique client id.",
    420: "Invalid Real-time Query:Historical data request pacing violation",
    1100: "Connectivity between IB and Trader Workstation has been lost.",
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
    2104: "Market data farm connection is OK:usfarm",
    2106: "HMDS data farm connection is OK:ushmds",
    2158: "Sec-def data farm connection is OK:secdefnj",
}
CONNECT_NOTICES = (2104, 2106, 2158)


def standard_message(code: int) -> str:
    return STANDARD_MESSAGES.get(code, f"Simulated error {code}")


@dataclass
class FaultPlan:
    pacing_codes: list[int] = field(default_factory=list)
    reserved_client_ids: set[int] = field(default_factory=set)
    connectivity_lost: bool = False
    refuse_until: float = 0.0          # monotonic seconds
    silent_requests: set[tuple[int, int]] = field(default_factory=set)
    silent_symbols: set[str] = field(default_factory=set)

    def bars_silenced(self, session_number: int, req_id: int, symbol: str) -> bool:
        return ((session_number, req_id) in self.silent_requests or symbol in self.silent_symbols
                or "*" in self.silent_symbols)

    def next_pacing_fault(self) -> int | None:
        return self.pacing_codes.pop(0) if self.pacing_codes else None
