"""The market-data side of :class:`runner.ib.store.IBStore`: contracts, history, 5-second bars, the clock.

Bars stream per symbol (:meth:`MarketData.subscribe_bars`); a bar at or before
the last one forwarded is dropped, so repeats after a resubscription never
reach the feeds. A resubscription buffers the new stream while the gap since
the last bar is re-fetched from 5-second history (or reported as a
:class:`events.Gap` when the gateway cannot serve it). The mixin uses the
store's ``ib``, ``lib``, ``cfg``, ``log``, ``trace``, ``_subs``, ``_stopping``,
``_reconnecting``, ``_loop``, ``bar_restarts`` and ``_emit``.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from dataclasses import dataclass, field
from typing import Any

from runner.errors import GatewayError
from runner.ib import compat, events

UTC = dt.timezone.utc
HISTORY_RETRIES = 4


@dataclass
class _BarSubscription:
    symbol: str
    contract: Any
    bars: Any = None
    last_start: dt.datetime | None = None
    buffering: bool = False
    buffer: list = field(default_factory=list)
    #: End of the last 5-second bar the real-time stream itself sent (never one re-fetched from history):
    #: what the stall watch (runner/ib/broker_feed_stall.py) reads from the backtrader thread.
    streamed_until: dt.datetime | None = None


class MarketData:
    # -- market data ---------------------------------------------------------
    async def qualify(self, symbol: str) -> Any:
        """The qualified stock contract for ``symbol``; DataError-worthy None if unknown."""
        contract = self.lib.Stock(symbol, self.cfg.exchange, self.cfg.currency,
                                  primaryExchange=self.cfg.primary_exchange.get(symbol, ""))
        return await compat.qualify(self.ib, contract)

    async def current_time(self) -> dt.datetime:
        """The gateway's clock. Callers at the same moment (the clock poll, a resubscription, a feed)
        share one request: the client libraries keep a single pending reqCurrentTime, so a second
        request would leave the first caller waiting for an answer that never comes."""
        pending = getattr(self, "_time_request", None)
        if pending is None or pending.done():
            pending = self._time_request = asyncio.ensure_future(self.ib.reqCurrentTimeAsync())
        try:
            return (await asyncio.wait_for(asyncio.shield(pending), self.cfg.request_timeout)).astimezone(UTC)
        except asyncio.TimeoutError:
            if self._time_request is pending:   # lost with a dropped socket: the next caller asks anew
                self._time_request = None
            raise GatewayError(f"the gateway did not tell its time within {self.cfg.request_timeout:g} s") from None

    async def history(self, contract: Any, end: dt.datetime | str, duration: str, bar_size: str,
                      format_date: int = 2) -> list:
        """Historical TRADES bars (regular hours), sent within IB's pacing rules (``self.pacing``, a
        :class:`runner.ib.pacing.PacingLimiter`); pacing refusals (162, 420) still wait and retry.

        One request per distinct (contract, end, duration, bar size, what to show, RTH): feeds asking the
        same (IEF as the bond leg of two playbooks) share its answer, while it is on its way and for IB's
        identical-request window after it came (IB would refuse the repeat, or the limiter wait it out).
        A caller needing bars completed since asks again with an explicit end (backfill.fetch_span)."""
        con_id = getattr(contract, "conId", 0) or contract.symbol
        key = (con_id, end.astimezone(UTC).isoformat() if isinstance(end, dt.datetime) else end, duration, bar_size,
               "TRADES", True)
        shared: dict = self.__dict__.setdefault("_history_shared", {})
        known = shared.get(key)
        fresh_for = self.pacing.identical_window()
        if known is None or (known[0].done() and (known[0].cancelled() or known[0].exception() is not None
                                                  or time.monotonic() - known[1] > fresh_for)):
            future = asyncio.ensure_future(self._request_history(contract, key, end, duration, bar_size,
                                                                 format_date))
            known = shared[key] = (future, float("inf"))
            future.add_done_callback(lambda f, key=key: self._history_answered(key, f))
        return list(await asyncio.shield(known[0]))

    def _history_answered(self, key: tuple, future: asyncio.Future) -> None:
        shared = self.__dict__.setdefault("_history_shared", {})
        if shared.get(key, (None,))[0] is future:
            if future.cancelled() or future.exception() is not None:
                del shared[key]   # a failure is never shared with a later caller
            else:
                shared[key] = (future, time.monotonic())
        for stale in [k for k, (f, at) in shared.items() if f.done() and time.monotonic() - at > 3600]:
            del shared[stale]

    async def _request_history(self, contract: Any, key: tuple, end: dt.datetime | str, duration: str,
                               bar_size: str, format_date: int) -> list:
        RequestError = self.lib.RequestError
        con_id = key[0]
        for attempt in range(HISTORY_RETRIES + 1):
            # IB's pacing rules kept before sending: several feeds starting at once never provoke 162
            ticket = await self.pacing.acquire(key, (con_id, "TRADES"))
            try:
                return list(await self.ib.reqHistoricalDataAsync(
                    contract, end, duration, bar_size, "TRADES", True, format_date,
                    timeout=self.cfg.request_timeout))
            except RequestError as exc:
                if exc.code == 162 and "no data" in exc.message.lower():
                    return []   # 162 also says "HMDS query returned no data": the history ends here
                if compat.classify_error(exc.code) != "pacing" or attempt == HISTORY_RETRIES:
                    raise GatewayError(f"historical data request for {contract.symbol} failed: "
                                       f"error {exc.code}: {exc.message}") from None
                # refused: the same request is sent again after the back-off, not 15 s after this one
                self.pacing.forget(ticket)
                wait = self.cfg.pacing_backoff * (attempt + 1)
                self.log.warning(f"pacing violation (error {exc.code}) on {contract.symbol}; retrying in {wait:g} s")
            finally:
                self.pacing.release(ticket)
            await asyncio.sleep(wait)
        return []

    async def subscribe_bars(self, symbol: str, contract: Any, after: dt.datetime | None,
                             fill_gap: bool = False) -> None:
        """Stream 5-second TRADES bars (regular hours) of ``symbol`` as FiveSecondBar messages.

        ``fill_gap``: the bars since ``after`` (a seed of the bar in progress) are re-fetched from
        5-second history while the new stream is buffered, as after a reconnect: the stream itself
        starts with the next bar, and the seed may be seconds (or a pacing wait) old."""
        known = self._subs.get(symbol)
        if known is not None:
            # A second feed of the symbol at another bar size (daily and 1-minute playbooks in one session):
            # one stream serves both, from the earlier of the two starts (each feed drops what it already has).
            if after is None or (known.last_start is not None and after < known.last_start):
                known.last_start = after
            return
        sub = _BarSubscription(symbol, contract, last_start=after)
        self._subs[symbol] = sub
        if fill_gap and after is not None:
            await self._resubscribe(sub)
        else:
            self._start_bars(sub)

    def _start_bars(self, sub: _BarSubscription) -> None:
        sub.bars = self.ib.reqRealTimeBars(sub.contract, 5, "TRADES", True)
        sub.bars.updateEvent += lambda bars, has_new, sub=sub: self._onBar(sub, bars)

    def _onBar(self, sub: _BarSubscription, bars) -> None:
        if self.trace is not None:
            self.trace.append(("bar", sub.symbol, time.perf_counter()))
        for b in list(bars):
            end = b.time + dt.timedelta(seconds=5)
            if sub.streamed_until is None or end > sub.streamed_until:
                sub.streamed_until = end
            message = events.FiveSecondBar(sub.symbol, b.time, b.open_, b.high, b.low, b.close, float(b.volume))
            if sub.buffering:
                sub.buffer.append(message)
            else:
                self._forward_bar(sub, message)
        del bars[:]

    def _forward_bar(self, sub: _BarSubscription, message: events.FiveSecondBar) -> None:
        if sub.last_start is not None and message.start <= sub.last_start:
            return
        sub.last_start = message.start
        self._emit(message)

    async def _resubscribe(self, sub: _BarSubscription) -> None:
        """Restart the stream and fill the gap since the last bar from 5-second history."""
        sub.buffering, sub.buffer = True, []
        if sub.bars is not None:
            try:
                self.ib.cancelRealTimeBars(sub.bars)
            except Exception:  # the old subscription died with the old socket
                pass
        self._start_bars(sub)
        try:
            if sub.last_start is not None:
                now = await self.current_time()
                if (now - sub.last_start).total_seconds() > 5 and not await self._fill_gap(sub, now):
                    self._emit(events.Gap(sub.symbol, sub.last_start, now))
        except GatewayError as exc:   # the feed repairs a gap from its own bars
            self.log.warning(f"{sub.symbol}: gap since {sub.last_start} not re-fetched ({exc})")
        finally:
            for message in sub.buffer:
                self._forward_bar(sub, message)
            sub.buffering, sub.buffer = False, []

    def streamed_until(self, symbol: str) -> dt.datetime | None:
        """End of the last 5-second bar streamed for ``symbol`` (any thread), or None."""
        sub = self._subs.get(symbol)
        return sub.streamed_until if sub is not None else None

    def restart_bars(self, symbol: str) -> bool:
        """From any thread: cancel and request ``symbol``'s real-time bars again, the gap since its last bar
        re-fetched from history (as after a reconnect); returns at once. False if it does not stream."""
        sub = self._subs.get(symbol)
        if sub is None or self._loop is None or self._stopping:
            return False
        self.bar_restarts[symbol] = self.bar_restarts.get(symbol, 0) + 1

        async def restart():
            if not sub.buffering:   # a reconnect's resubscription already under way does the same
                await self._resubscribe(sub)
        asyncio.run_coroutine_threadsafe(restart(), self._loop)
        return True

    async def _restore_after_data_loss(self, message: str) -> None:
        """1101: renew every subscription (the gateway dropped them), then say the data flows again."""
        try:
            for sub in list(self._subs.values()):
                await self._resubscribe(sub)
        finally:
            self._emit(events.Connectivity("restored_data_lost", message))

    async def _fill_gap(self, sub: _BarSubscription, now: dt.datetime) -> bool:
        """Re-fetch the 5-second bars missed since the last one; False if the gateway cannot serve them."""
        if (now - sub.last_start).total_seconds() > 6 * 3600:
            return False
        chunks, end = [], now
        try:
            while end > sub.last_start:
                seconds = int(min(3600, math.ceil((end - sub.last_start).total_seconds())))
                chunks.append(await self.history(sub.contract, end, f"{seconds} S", "5 secs"))
                end -= dt.timedelta(seconds=seconds)
        except GatewayError as exc:
            self.log.info(f"{sub.symbol}: no 5-second history for the gap ({exc}); the feed repairs from its bars")
            return False
        for chunk in reversed(chunks):
            for b in chunk:
                if isinstance(b.date, dt.datetime):
                    self._forward_bar(sub, events.FiveSecondBar(sub.symbol, b.date.astimezone(UTC), b.open, b.high,
                                                                b.low, b.close, float(b.volume)))
        return True

    async def _poll_clock(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.clock_interval)
            if self.ib.isConnected() and not self._reconnecting:
                try:
                    self._emit(events.Clock(await asyncio.wait_for(self.current_time(), 5)))
                except Exception as exc:  # a missed tick only delays a bar; the next one comes
                    self.log.debug(f"clock poll failed: {exc!r}")

