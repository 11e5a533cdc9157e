"""One connection to the gateway per process, with its event loop in its own thread.

Contract:

- :meth:`IBStore.connect` refuses live ports before opening a socket, connects
  on the IB thread, refuses non-paper accounts (disconnecting before anything
  is sent) and returns the account's state as a :class:`events.Reconciled`.
- Everything the gateway reports is turned into an :mod:`runner.ib.events`
  message and put on one ``queue.Queue`` in arrival order; the backtrader
  thread calls :meth:`IBStore.pump` to dispatch them to the feed and broker
  handlers. Nothing is dropped; consumers are idempotent about repeats.
- Orders leave through :meth:`IBStore.place` / :meth:`IBStore.cancel`, which
  hop onto the IB loop with ``call_soon_threadsafe``.
- A dropped socket is retried with doubling backoff; on success the store
  re-checks the account, reconciles, resubscribes bars (filling the gap from
  5-second history) and reports ``Connectivity("reconnected")``. After
  ``ib.reconnect_give_up`` seconds it reports :class:`events.Fatal`.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import math
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from loguru import logger

from runner.errors import GatewayError, SafetyError
from runner.ib import compat, events
from runner.ib.ib_config import IBConfig
from runner.ib.journal import Journal
from runner.ib.order_routing import OrderRouting
from runner.ib.safety import check_accounts, check_port, mask_account

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


class IBStore(OrderRouting):
    """The IB side of a paper-trading process (see module docstring)."""

    def __init__(self, cfg: IBConfig, journal_dir: Path | str = "logs") -> None:
        self.cfg = cfg
        self.lib = compat.load_library(cfg.library)
        self.events: queue.Queue = queue.Queue()
        self.account: str | None = None
        self.journal: Journal | None = None
        self._journal_dir = Path(journal_dir)
        self._handlers: dict[type, list[Callable]] = defaultdict(list)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.ib: Any = None
        self._subs: dict[str, _BarSubscription] = {}
        self.feeds: list = []          # the live feeds of this process, kept in step by the feeds
        self._ref_by_order_id: dict[int, str] = {}
        self._stopping = False
        self._reconnecting = False
        self._clock_task: asyncio.Task | None = None
        self.clock_interval = 1.0
        #: When a list, (event, key, time.perf_counter()) is appended for every 5-second bar received
        #: ("bar") and every order handed to the socket ("order"): the latency benchmark reads it.
        self.trace: list | None = None
        self.log = logger.bind(component="ib.store")

    # -- life cycle (caller thread) ------------------------------------------
    def connect(self) -> events.Reconciled:
        """Connect, check the account, open the journal; return the account's state."""
        check_port(self.cfg.port)
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run_loop, args=(ready,), name="ib-loop", daemon=True)
        self._thread.start()
        ready.wait()
        self.log.info(f"connecting to {self.cfg.host}:{self.cfg.port} as client {self.cfg.client_id} "
                      f"with {self.lib.name} {self.lib.version}")
        try:
            snapshot = self.call(self._connect_first(), timeout=self.cfg.connect_timeout * 3 + 10)
        except BaseException:
            self.stop()
            raise
        return snapshot

    def stop(self) -> None:
        """Disconnect, stop the IB thread and close the journal. Safe to call twice."""
        self._stopping = True
        loop = self._loop
        if loop is not None and loop.is_running():
            async def shutdown():
                for task in asyncio.all_tasks():   # clock poll, resubscriptions, reconnects
                    if task is not asyncio.current_task():
                        task.cancel()
                if self.ib is not None and self.ib.client.isConnected():
                    compat.disconnect(self.ib)
            try:
                asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=5)
            except Exception:  # the loop may already be gone; nothing to flush there
                pass
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.journal is not None:
            self.journal.close()
            self.journal = None

    def call(self, coro, timeout: float | None = None) -> Any:
        """Run a coroutine on the IB loop and wait for its result (bounded)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=timeout)

    def _run_loop(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self.ib = self.lib.IB()
        self.ib.RaiseRequestErrors = True
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    # -- hand-off to the backtrader thread -----------------------------------
    def subscribe(self, kind: type, handler: Callable[[Any], None]) -> None:
        """Call ``handler(message)`` on the backtrader thread for every message of ``kind``."""
        self._handlers[kind].append(handler)

    def pump(self, timeout: float = 0.0) -> int:
        """Dispatch queued messages in arrival order; wait up to ``timeout`` for the first one."""
        count = 0
        try:
            message = self.events.get(timeout=timeout) if timeout > 0 else self.events.get_nowait()
        except queue.Empty:
            return 0
        while True:
            for handler in self._handlers.get(type(message), ()):
                handler(message)
            count += 1
            try:
                message = self.events.get_nowait()
            except queue.Empty:
                return count

    def _emit(self, message) -> None:
        self.events.put(message)

    # -- connecting ----------------------------------------------------------
    async def _connect_first(self) -> events.Reconciled:
        await self._connect_once()
        self._install_handlers()
        self._clock_task = asyncio.ensure_future(self._poll_clock())
        return await self._reconcile()

    async def _connect_once(self) -> None:
        ib = self.ib
        await compat.connect(ib, self.cfg.host, self.cfg.port, self.cfg.client_id, self.cfg.connect_timeout)
        try:
            account = check_accounts(ib.managedAccounts(), self.cfg.account)
        except SafetyError:
            compat.disconnect(ib)
            raise
        if self.account is not None and account != self.account:
            compat.disconnect(ib)
            raise SafetyError(f"the gateway now manages {mask_account(account)} instead of "
                              f"{mask_account(self.account)}; refusing to continue")
        self.account = account
        if self.journal is None:
            path = self.cfg.journal or self._journal_dir / f"journal-{account}.sqlite"
            self.journal = Journal(path)
        self.log.info(f"connected to {self.cfg.host}:{self.cfg.port}, paper account {mask_account(account)}, "
                      f"server version {ib.client.serverVersion()}")

    def _install_handlers(self) -> None:
        ib = self.ib
        ib.orderStatusEvent += self._onOrderStatus
        ib.openOrderEvent += self._onOrderStatus
        ib.execDetailsEvent += self._onExecDetails
        ib.commissionReportEvent += self._onCommissionReport
        ib.errorEvent += self._onError
        ib.positionEvent += self._onPosition
        ib.disconnectedEvent += self._onDisconnected

    async def _reconcile(self) -> events.Reconciled:
        """The account's cash, positions, this bot's open orders and today's executions."""
        ib = self.ib
        prefix = self.cfg.order_ref_prefix + ":"
        fills = await ib.reqExecutionsAsync()
        # From here on nothing awaits: positions, cash and the executions they include are one snapshot.
        executions = [self._execution(f, replayed=True) for f in fills
                      if (f.execution.orderRef or "").startswith(prefix)]
        cash = None
        for v in ib.accountValues(self.account):
            if v.tag == "TotalCashValue" and v.currency in (self.cfg.currency, "BASE"):
                try:
                    cash = float(v.value)
                except ValueError:
                    continue
                if v.currency == self.cfg.currency:
                    break
        positions = {p.contract.symbol: (float(p.position), float(p.avgCost))
                     for p in ib.positions(self.account)}
        open_orders, known = {}, {}
        for trade in ib.trades():   # open and completed orders, as the gateway reported them at connect
            message = self._status_message(trade)
            if message.orderRef.startswith(prefix):
                known[message.orderRef] = message.status
                if trade.isActive():
                    open_orders[message.orderRef] = message
        booked = {e.execId for e in executions}
        if self.journal is not None:
            booked |= {f["exec_id"] for f in self.journal.fills()}
            for symbol, (qty, cost) in positions.items():
                self.journal.record_position(symbol, qty, cost)
            for e in executions:
                self.journal.record_fill(e.execId, e.orderRef, e.time, e.symbol, e.side, e.shares, e.price)
        self.log.info(f"reconciled: cash {cash}, {len(positions)} positions, {len(open_orders)} open orders of "
                      f"this bot, {len(executions)} executions today")
        return events.Reconciled(cash, positions, open_orders, executions, known, frozenset(booked))

    # -- reconnecting --------------------------------------------------------
    def _onDisconnected(self) -> None:
        if self._stopping or self._reconnecting:
            return
        self.log.warning(f"connection to {self.cfg.host}:{self.cfg.port} lost; reconnecting")
        self._emit(events.Connectivity("lost", "socket closed"))
        self._reconnecting = True
        asyncio.ensure_future(self._reconnect())

    async def _reconnect(self) -> None:
        started = time.monotonic()
        delay = self.cfg.backoff_initial
        attempt = 0
        try:
            while not self._stopping:
                await asyncio.sleep(delay)
                attempt += 1
                try:
                    await self._connect_once()
                except SafetyError as exc:
                    self._emit(events.Fatal(exc))
                    return
                except GatewayError as exc:
                    waited = time.monotonic() - started
                    if waited + delay > self.cfg.reconnect_give_up:
                        self._emit(events.Fatal(GatewayError(
                            f"lost the connection to IB gateway at {self.cfg.host}:{self.cfg.port} and could not "
                            f"reconnect within {self.cfg.reconnect_give_up:g} s ({attempt} attempts; last: {exc})")))
                        return
                    self.log.info(f"reconnect attempt {attempt} failed ({exc}); next in {delay:g} s")
                    delay = min(delay * 2, self.cfg.backoff_max)
                    continue
                snapshot = await self._reconcile()
                self._emit(snapshot)
                for sub in self._subs.values():
                    await self._resubscribe(sub)
                self._emit(events.Connectivity("reconnected", f"after {attempt} attempts"))
                self.log.info(f"reconnected after {attempt} attempts")
                return
        finally:
            self._reconnecting = False

    # -- market data ---------------------------------------------------------
    async def qualify(self, symbol: str) -> Any:
        """The qualified stock contract for ``symbol``; DataError-worthy None if unknown."""
        contract = self.lib.Stock(symbol, self.cfg.exchange, self.cfg.currency,
                                  primaryExchange=self.cfg.primary_exchange.get(symbol, ""))
        return await compat.qualify(self.ib, contract)

    async def current_time(self) -> dt.datetime:
        return (await self.ib.reqCurrentTimeAsync()).astimezone(UTC)

    async def history(self, contract: Any, end: dt.datetime | str, duration: str, bar_size: str,
                      format_date: int = 2) -> list:
        """Historical TRADES bars (regular hours); pacing refusals (162, 420) wait and retry."""
        RequestError = self.lib.RequestError
        for attempt in range(HISTORY_RETRIES + 1):
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
                wait = self.cfg.pacing_backoff * (attempt + 1)
                self.log.warning(f"pacing violation (error {exc.code}) on {contract.symbol}; retrying in {wait:g} s")
                await asyncio.sleep(wait)
        return []

    async def subscribe_bars(self, symbol: str, contract: Any, after: dt.datetime | None) -> None:
        """Stream 5-second TRADES bars (regular hours) of ``symbol`` as FiveSecondBar messages."""
        sub = _BarSubscription(symbol, contract, last_start=after)
        self._subs[symbol] = sub
        self._start_bars(sub)

    def _start_bars(self, sub: _BarSubscription) -> None:
        sub.bars = self.ib.reqRealTimeBars(sub.contract, 5, "TRADES", True)
        sub.bars.updateEvent += lambda bars, has_new, sub=sub: self._onBar(sub, bars)

    def _onBar(self, sub: _BarSubscription, bars) -> None:
        if self.trace is not None:
            self.trace.append(("bar", sub.symbol, time.perf_counter()))
        for b in list(bars):
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
                if (now - sub.last_start).total_seconds() > 10 and not await self._fill_gap(sub, now):
                    self._emit(events.Gap(sub.symbol, sub.last_start, now))
        finally:
            for message in sub.buffer:
                self._forward_bar(sub, message)
            sub.buffering, sub.buffer = False, []

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

    # -- gateway events (IB thread); order events are in OrderRouting ------
    def _onError(self, reqId, errorCode, errorString, contract=None) -> None:
        kind = compat.classify_error(errorCode)
        if kind == "connectivity":
            state = {1100: "lost", 1101: "restored_data_lost", 1102: "restored", 2110: "lost"}[errorCode]
            self.log.warning(f"gateway connectivity: {errorCode} {errorString}")
            self._emit(events.Connectivity(state, errorString))
            if errorCode == 1101:
                for sub in self._subs.values():
                    asyncio.ensure_future(self._resubscribe(sub))
        elif kind == "client_id":
            self._emit(events.Fatal(GatewayError(
                f"IB gateway at {self.cfg.host}:{self.cfg.port}: client id {self.cfg.client_id} is in use (326)")))
        elif kind == "error" and reqId in self._ref_by_order_id:
            self.log.bind(order_ref=self._ref_by_order_id[reqId]).warning(f"order error {errorCode}: {errorString}")
            self._onOrderError(reqId, errorCode, errorString)
        elif kind == "error" and reqId == -1:
            self.log.warning(f"gateway error {errorCode}: {errorString}")
