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
- A dropped socket is retried with doubling backoff, capped at
  ``ib.restart_backoff`` once the gateway refuses connections (it is
  restarting, and will be back soon); on success the store re-checks the
  account, reconciles, resubscribes bars (filling the gap from 5-second
  history) and reports ``Connectivity("reconnected")``. After
  ``ib.reconnect_give_up`` seconds it reports :class:`events.Fatal`.
- 1101 (connectivity restored, data lost) is reported only once every
  subscription is renewed and its gap is filled (or reported as a ``Gap``),
  so the feeds stay stale until then and never close a bar on a clock tick
  while its missed 5-second bars are still on their way.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import queue
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

from loguru import logger

from runner.errors import GatewayError, SafetyError
from runner.ib import compat, events, library_noise
from runner.ib.ib_config import IBConfig
from runner.ib.journal import Journal, JournalError, journal_path
from runner.ib.market_data import MarketData, _BarSubscription
from runner.ib.order_routing import OrderRouting
from runner.ib.pacing import PacingLimiter
from runner.ib.safety import check_accounts, check_port, mask_account

UTC = dt.timezone.utc


class IBStore(MarketData, OrderRouting):
    """The IB side of a paper-trading process (see module docstring)."""

    def __init__(self, cfg: IBConfig, journal_dir: Path | str | None = "logs") -> None:
        # journal_dir None: a process that sends no orders (flowbot fetch) opens no journal at all.
        self.cfg = cfg
        self.lib = compat.load_library(cfg.library)
        self.events: queue.Queue = queue.Queue()
        self.account: str | None = None
        self.journal: Journal | None = None
        self._journal_dir = None if journal_dir is None else Path(journal_dir)
        self._handlers: dict[type, list[Callable]] = defaultdict(list)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.ib: Any = None
        self._subs: dict[str, _BarSubscription] = {}
        self.bar_restarts: dict[str, int] = {}   # symbol -> real-time bars requested again (restart_bars)
        self.feeds: list = []          # the live feeds of this process, kept in step by the feeds
        self._ref_by_order_id: dict[int, str] = {}
        self._stopping = False
        self._reconnecting = False
        self._clock_task: asyncio.Task | None = None
        #: Seconds waited before each reconnect attempt, in order (what the backoff did, for the log and tests).
        self.reconnect_delays: list[float] = []
        self.clock_interval = 1.0
        #: Historical requests wait here as IB's pacing rules require (tests may shrink its windows).
        self.pacing = PacingLimiter()
        #: Set by :meth:`interrupt`: waits through :meth:`call_until_stopped` end with ``SessionEnding``.
        self.interrupted = threading.Event()
        self._interruptible: set[concurrent.futures.Future] = set()
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
        self.interrupt()   # nothing waits on a loop that is going away
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

    def call_until_stopped(self, coro) -> Any:
        """Like :meth:`call` without a timeout (a backfill paced by IB may take minutes), but ended by
        :meth:`interrupt`: the coroutine is cancelled and :class:`events.SessionEnding` raised."""
        if self.interrupted.is_set():
            coro.close()
            raise events.SessionEnding("the session is ending")
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        self._interruptible.add(future)
        if self.interrupted.is_set():   # interrupt() ran between the check and the add
            future.cancel()
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise events.SessionEnding("the session is ending") from None
        finally:
            self._interruptible.discard(future)

    def interrupt(self) -> None:
        """The session is ending (any thread): cancel every wait made through :meth:`call_until_stopped`."""
        self.interrupted.set()
        for future in list(self._interruptible):
            future.cancel()

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

    def post(self, message) -> None:
        """Queue a message for the handlers from any thread (the broker's feed-state reports)."""
        self._emit(message)

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
        if self.journal is None and self._journal_dir is not None:
            path = self.cfg.journal or journal_path(self._journal_dir, account)
            try:
                self.journal = Journal(path, account=account)
            except JournalError:
                compat.disconnect(ib)   # before anything is sent
                raise
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
        self._time_request = None   # its answer died with the socket
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
                self.reconnect_delays.append(delay)
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
                    delay = min(delay * 2, self.cfg.backoff_max)
                    if "refused" in str(exc):   # nothing listens: the gateway is restarting, back soon
                        delay = min(delay, self.cfg.restart_backoff)
                    self.log.info(f"reconnect attempt {attempt} failed ({exc}); next in {delay:g} s")
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

    # -- gateway events (IB thread); order events are in OrderRouting ------
    def _onError(self, reqId, errorCode, errorString, contract=None) -> None:
        kind = compat.classify_error(errorCode)
        if kind == "connectivity":
            state = {1100: "lost", 1101: "restored_data_lost", 1102: "restored", 2110: "lost"}[errorCode]
            self.log.warning(f"gateway connectivity: {errorCode} {errorString}")
            if errorCode == 1101:
                asyncio.ensure_future(self._restore_after_data_loss(errorString))
            else:
                self._emit(events.Connectivity(state, errorString))
        elif kind == "client_id":
            self._emit(events.Fatal(GatewayError(
                f"IB gateway at {self.cfg.host}:{self.cfg.port}: client id {self.cfg.client_id} is in use (326)")))
        elif kind == "error" and reqId in self._ref_by_order_id:
            level, meaning = library_noise.describe(errorCode, errorString)
            log = self.log.bind(order_ref=self._ref_by_order_id[reqId])
            # The one line about it: the library's own line is kept at DEBUG (library_noise.store_noise).
            log.log(level, f"order {self._ref_by_order_id[reqId]}: "
                           f"{library_noise.said(errorCode, errorString, meaning)}")
            self._onOrderError(reqId, errorCode, errorString)
        elif kind == "error" and reqId == -1:
            self.log.warning(f"gateway error {errorCode}: {errorString}")
