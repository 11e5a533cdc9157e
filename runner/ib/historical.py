"""One paced historical-bars request for ``flowbot fetch``: limiter first, then back off and retry.

Contract of :func:`request_bars`:

- every attempt passes :class:`runner.ib.pacing.PacingLimiter` before it is sent;
- a pacing refusal (162 "Pacing violation", 420), a timeout and a dropped
  connection back off (``backoff`` × attempt, IB seconds scaled like the
  limiter) and retry, up to ``retries`` times; then :class:`GatewayError`;
- "HMDS query returned no data" is an answer: ``[]``;
- any other error of the request is :class:`GatewayError` naming the code.

Both libraries swallow their own timeout and return an empty list; a call
that returns nothing after (almost) the whole timeout is taken as a timeout.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from loguru import logger

from runner.errors import GatewayError
from runner.ib import compat
from runner.ib.pacing import PacingLimiter

UTC = dt.timezone.utc


@dataclass(frozen=True)
class HistoryQuery:
    """What one reqHistoricalData asks for (IB's own words for duration and bar size)."""

    end: dt.datetime | str          # tz-aware (sent as UTC) or "" = now
    duration: str                   # e.g. "1 D", "1 W", "1 Y"
    bar_size: str                   # e.g. "1 min", "5 mins", "1 day"
    what: str = "TRADES"            # TRADES or ADJUSTED_LAST
    rth: bool = True

    def key(self, con_id: int) -> tuple:
        end = self.end.astimezone(UTC).isoformat() if isinstance(self.end, dt.datetime) else self.end
        return (con_id, end, self.duration, self.bar_size, self.what, self.rth)


class Retrying(Exception):
    """Internal: this attempt failed in a way worth retrying."""


async def request_bars(ib: Any, lib: Any, contract: Any, query: HistoryQuery, limiter: PacingLimiter, *,
                       timeout: float = 60.0, retries: int = 6, backoff: float = 15.0) -> list:
    """The library's BarData list for ``query`` (see module doc)."""
    con_id = getattr(contract, "conId", 0) or contract.symbol
    key, contract_key = query.key(con_id), (con_id, query.what)
    format_date = 1 if query.bar_size.endswith("day") else 2
    end = query.end.astimezone(UTC) if isinstance(query.end, dt.datetime) else query.end
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            wait = backoff * attempt
            logger.warning(f"{contract.symbol}: {last}; retry {attempt}/{retries} in {wait:g} s (IB time)")
            await limiter.pause(wait)
        ticket = await limiter.acquire(key, contract_key)
        started = time.monotonic()
        try:
            bars = list(await ib.reqHistoricalDataAsync(contract, end, query.duration, query.bar_size, query.what,
                                                         query.rth, format_date, timeout=timeout))
        except lib.RequestError as exc:
            if exc.code == 162 and "no data" in exc.message.lower():
                return []
            if compat.classify_error(exc.code) == "pacing" or exc.code == 366:
                last = f"error {exc.code} ({exc.message})"
                continue
            raise GatewayError(f"historical data request for {contract.symbol} ({query.bar_size}, {query.duration} "
                               f"to {end or 'now'}) failed: error {exc.code}: {exc.message}") from None
        except ConnectionError as exc:
            last = f"connection lost ({exc or 'not connected'})"
            continue
        finally:
            limiter.release(ticket)
        if not bars and time.monotonic() - started >= 0.95 * timeout:
            last = f"no answer within {timeout:g} s"
            continue
        return bars
    raise GatewayError(f"historical data for {contract.symbol} ({query.bar_size}, {query.duration} to "
                       f"{end or 'now'}): gave up after {retries + 1} attempts; last: {last}. "
                       f"Rerun the same command later: the fetch resumes where it stopped.")
