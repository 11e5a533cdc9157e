"""What a client session and the request handlers may read and change on the gateway.

``GatewayServer`` satisfies this protocol; ``session`` and ``handlers`` depend on
it instead of on ``server`` (which builds them), so no import circle exists.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Protocol


class GatewayState(Protocol):
    account: Any          # .account.Account
    calendar: Any         # .sessions.SessionCalendar
    clock: Any
    contracts: Any        # .contracts.ContractBook
    exchange: Any         # .exchange.SimExchange
    faults: Any           # .faults.FaultPlan
    handlers: Any         # .handlers.RequestHandlers
    options: Any
    pacing: Any           # .pacing.PacingGuard
    prices: Any
    series: Any
    variations: Any       # .variations.Variations

    def now(self) -> dt.datetime: ...
    def mask(self, text: str) -> str: ...
    def forget(self, session: Any) -> None: ...
    def client_id_taken(self, client_id: int) -> bool: ...
    def account_statement(self, symbols: list[str] | None = None) -> list[list]: ...
    def account_multi_statement(self, req_id: int) -> list[list]: ...
