"""``SimulatedGateway``: the public, thread-safe face of the simulator.

Contract: construct with the bars and options (the dataset is checked at
once), ``start()`` runs the server and the replay in their own thread and
asyncio loop and returns when the port listens; every other method may be
called from any thread and returns when the loop has done it. ``stop()``
closes everything; the object is also a context manager.

Default start of the clock: the open of the dataset's first session, or of
the session ``warmup_sessions`` later -- the sessions before the start are
history that reqHistoricalData can serve, the rest is replayed.

Strict like IB Gateway by default: orders larger than ``fill_lot`` shares fill
in several executions, commission reports follow their execution after a
random ``commission_delay`` (seconds of real time, seeded by ``seed``), and
the rest described in exchange.py and server.py. ``variations`` (off by default) varies the message
stream in the legal ways runner/sim/variations.py lists, seeded by ``seed`` too.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from typing import Any, Callable, NamedTuple

import pandas as pd

from .account import Account, CommissionSchedule, Execution, Position
from .contracts import ContractBook
from .dataset import build_series, to_new_york
from .exchange import SimExchange
from .faults import FaultPlan
from .variations import Variations
from .pacing import PacingGuard
from .replay import Replay
from .server import GatewayOptions, GatewayServer, require_loopback
from .sessions import NEW_YORK

#: Bounds on the control calls below: safety nets against a hung loop, never a speed requirement
#: (a loaded machine only makes them slower). A replay step that waits for the client at each session
#: close (``set_pause_hook``) may take minutes there.
CONTROL_TIMEOUT = 120.0
ADVANCE_TIMEOUT = 600.0


class OrderView(NamedTuple):
    """A snapshot of one order, for assertions."""

    order_id: int
    client_id: int
    perm_id: int
    symbol: str
    action: str
    quantity: float
    order_type: str
    lmt_price: float | None
    aux_price: float | None
    tif: str
    status: str
    filled: float
    avg_fill_price: float
    order_ref: str
    parent_id: int
    oca_group: str
    modifications: int = 0   # the same orderId re-sent and accepted: a modification, never a new order


class SimulatedGateway:
    def __init__(self, bars: dict[str, pd.DataFrame], speed: float = 600.0, host: str = "127.0.0.1",
                 port: int = 0, account: str = "DU1234567", cash: float = 100_000.0, start=None,
                 partial_fills: int = 0, pacing: bool = True, session_pause: float = 0.05,
                 commission_per_share: float = 0.005, commission_min: float = 1.0, *,
                 bar_pause: float = 0.0, warmup_sessions: int = 0, paused: bool = False,
                 pacing_time_scale: float = 1.0, pacing_clock: Callable[[], float] | None = None,
                 reject_status: str = "Inactive", push_open_orders: bool = True, wire_log: bool = True,
                 executions_days: int | None = None, contracts: dict[str, dict] | None = None,
                 fill_lot: int = 500, commission_delay: tuple[float, float] = (0.1, 0.3), seed: int = 0,
                 variations=None):
        require_loopback(host)
        if speed < 0:
            raise ValueError("speed must be >= 0 (0 = as fast as possible)")
        self.series, self.calendar = build_series(bars)
        self.contracts = ContractBook.for_symbols(self.series, contracts)
        self.host = host
        self._port = port
        self.speed = float(speed)
        self.session_pause = session_pause
        self.bar_pause = bar_pause
        self.start_time = self._resolve_start(start, warmup_sessions)
        self.account = Account(account_id=account, cash=float(cash))
        self.commission = CommissionSchedule(commission_per_share, commission_min)
        self.partial_fills = partial_fills
        self.fill_lot = fill_lot
        self.reject_status = reject_status
        self.faults = FaultPlan()
        #: Legal variations of the message stream (runner/sim/variations.py), off unless asked for.
        self.variations = Variations(variations, seed)
        self.pacing = PacingGuard(time_scale=pacing_time_scale, enabled=pacing,
                                  **({"clock": pacing_clock} if pacing_clock else {}))
        self.options = GatewayOptions(account=account, push_open_orders=push_open_orders,
                                      wire_log=wire_log, executions_days=executions_days,
                                      commission_delay=tuple(commission_delay), seed=seed)
        self._start_paused = paused
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._done = threading.Event()
        self._startup_error: BaseException | None = None
        self._stopping: asyncio.Event | None = None
        self.server: GatewayServer | None = None
        self.replay: Replay | None = None
        self.exchange: SimExchange | None = None

    def _resolve_start(self, start, warmup_sessions: int) -> float:
        if start is not None:
            stamp = pd.Timestamp(start)
            stamp = stamp.tz_localize(NEW_YORK) if stamp.tz is None else stamp.tz_convert(NEW_YORK)
            return stamp.timestamp()
        days = sorted({d for s in self.series.values() for d in s.frame["session"]})
        day = days[min(warmup_sessions, len(days) - 1)]
        return self.calendar.bounds(day)[0].timestamp()

    def _session_close_at(self, moment: float) -> float | None:
        """The close of the session ``moment`` falls in (before its close), else None."""
        day = to_new_york(moment).date()
        if not self.calendar.is_session(day):
            return None
        close = self.calendar.bounds(day)[1].timestamp()
        return close if moment < close else None

    def _held_until(self, order, moment: float) -> str | None:
        """When IB would say an order arriving at ``moment`` reaches the exchange (warning 399), or None: a
        MOC/LOC at the auction cutoff of the session, any order outside a session at the next open."""
        stamp = to_new_york(moment)
        day = stamp.date()
        if self.calendar.is_session(day):
            opened, closed = self.calendar.bounds(day)
            if opened.timestamp() <= moment < closed.timestamp():
                if order.ticket.order_type not in ("MOC", "LOC"):
                    return None
                return (closed - pd.Timedelta(minutes=10)).strftime("%Y%m%d %H:%M:%S") + " US/Eastern"
            if moment < opened.timestamp():
                return opened.strftime("%Y%m%d %H:%M:%S") + " US/Eastern"
        for offset in range(1, 15):
            following = day + dt.timedelta(days=offset)
            if self.calendar.is_session(following):
                return self.calendar.bounds(following)[0].strftime("%Y%m%d %H:%M:%S") + " US/Eastern"
        return None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, timeout: float = CONTROL_TIMEOUT) -> "SimulatedGateway":
        self._thread = threading.Thread(target=self._run, name="sim-gateway", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the simulated gateway did not start listening in time")
        if self._startup_error is not None:
            raise self._startup_error
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._loop is not None and self._stopping is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> "SimulatedGateway":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # surfaced by start() if it happened before listening
            self._startup_error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        self.server = GatewayServer(self.host, self._port, self.options, self.account, self.contracts,
                                    self.series, self.calendar, self.pacing, self.faults, self.variations)
        self.replay = Replay(self.series, self.calendar, self.start_time, self.speed, self.server,
                             session_pause=self.session_pause, bar_pause=self.bar_pause)
        self.exchange = SimExchange(self.account, self.contracts, self.commission, self.server,
                                    self.replay.clock.now, self.partial_fills, self.reject_status,
                                    fill_lot=self.fill_lot, session_close_at=self._session_close_at,
                                    variations=self.variations, held_until=self._held_until)
        self.server.replay, self.server.exchange = self.replay, self.exchange
        if self._start_paused:
            self.replay.pause()
        await self.server.listen()
        self._ready.set()
        task = asyncio.create_task(self.replay.run())
        task.add_done_callback(lambda _: self._done.set())
        await self._stopping.wait()
        task.cancel()
        await self.server.shutdown()

    def _call(self, fn: Callable[[], Any], timeout: float = CONTROL_TIMEOUT) -> Any:
        """Run ``fn`` on the gateway's loop and return its result (awaiting it if it is awaitable)."""
        if self._loop is None:
            raise RuntimeError("the simulated gateway is not started")

        async def invoke():
            result = fn()
            if asyncio.isfuture(result) or asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result(timeout)

    # -- clock ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.server.port if self.server is not None else self._port

    @property
    def history_requests(self) -> list[tuple]:
        """Every historical-data request received so far (see ``GatewayServer.history_log``)."""
        return list(self.server.history_log) if self.server is not None else []

    @property
    def clock(self) -> pd.Timestamp:
        """Current sim time, tz-aware America/New_York."""
        moment = self.replay.clock.now() if self.replay is not None else self.start_time
        return to_new_york(moment)

    def wait_until_done(self, timeout: float | None = None) -> bool:
        """True once the replay has reached the end of the data."""
        return self._done.wait(timeout)

    def pause(self) -> None:
        self._call(lambda: self.replay.pause())

    def set_pause_hook(self, hook: Callable[[], Any] | None) -> None:
        """Wait for ``hook()`` (blocking, run in a worker thread) at every session/bar pause instead of
        sleeping: e.g. until the client has acted on the bar just completed."""
        self._call(lambda: setattr(self.replay, "pause_hook", hook))

    def resume(self) -> None:
        self._call(lambda: self.replay.resume())

    def advance_to(self, moment, timeout: float = ADVANCE_TIMEOUT) -> pd.Timestamp:
        """Run the replay up to sim time ``moment`` (naive = New York) and pause there."""
        stamp = pd.Timestamp(moment)
        stamp = stamp.tz_localize(NEW_YORK) if stamp.tz is None else stamp
        self._call(lambda: self.replay.run_until(stamp.timestamp()), timeout)
        return self.clock

    # -- faults ---------------------------------------------------------------------------

    def drop_connections(self, restart_seconds: float = 0.0) -> None:
        """Close every client socket; with ``restart_seconds`` refuse connections that long."""
        before = self._call(lambda: set(self.server.sessions))
        asyncio.run_coroutine_threadsafe(self.server.drop_all(restart_seconds), self._loop)
        deadline = time.monotonic() + CONTROL_TIMEOUT
        while self._call(lambda: before & self.server.sessions) and time.monotonic() < deadline:
            time.sleep(0.01)

    def end_restart(self) -> None:
        """End a restart begun by ``drop_connections(restart_seconds=...)`` now: the gateway listens again."""
        self._call(lambda: self.server.end_restart())

    def send_error(self, code: int, msg: str | None = None, req_id: int = -1) -> None:
        """Send an error/notice to every client; 1100/1101/1102 also change the bar stream."""
        if code in (1100, 1101, 1102):
            self._call(lambda: self.server.connectivity(code, msg))
        else:
            self._call(lambda: self.server.broadcast_error(code, msg, req_id))

    def stall_bars(self, symbol: str | None = None, resubscribe_restores: bool = True) -> None:
        """Stop the real-time bars of ``symbol`` (None: every symbol) without any error code; the socket,
        orders, reqCurrentTime and history go on working. ``resubscribe_restores``: only the subscriptions
        open now go silent (IB's subscription died) and a new reqRealTimeBars streams again; False: old and
        new subscriptions stay silent until :meth:`resume_bars` (the market data farm is gone)."""
        def apply():
            if not resubscribe_restores:
                self.faults.silent_symbols.add(symbol or "*")
                return
            for session in self.server.sessions:
                for req_id, streamed in session.realtime.items():
                    if symbol is None or streamed == symbol:
                        self.faults.silent_requests.add((session.number, req_id))
        self._call(apply)

    def resume_bars(self, symbol: str | None = None) -> None:
        """End :meth:`stall_bars` for ``symbol`` (None: every stall): the silenced subscriptions stream again."""
        def apply():
            if symbol is None:
                self.faults.silent_symbols.clear()
                self.faults.silent_requests.clear()
                return
            self.faults.silent_symbols.discard(symbol)
            self.faults.silent_requests -= {(n, r) for s in self.server.sessions for r, streamed in s.realtime.items()
                                            if streamed == symbol for n in (s.number,)}
        self._call(apply)

    def reject_next_orders(self, n: int = 1, reason: str = "Simulated rejection", order_type: str | None = None) -> None:
        """Refuse the next ``n`` orders (of ``order_type`` only, e.g. "STP", when given) with 201 then Inactive."""
        self._call(lambda: self.exchange.rejects_pending.extend([(reason, order_type)] * n))

    def limit_liquidity(self, symbol: str, shares: float | None) -> None:
        """From now on at most ``shares`` of ``symbol`` trade for the clients' orders (None: no limit again);
        an order meets what is left and the rest keeps working, partly filled, across bars and disconnects."""
        def apply():
            if shares is None:
                self.exchange.liquidity.pop(symbol, None)
            else:
                self.exchange.liquidity[symbol] = float(shares)
        self._call(apply)

    def cancel_order(self, order_ref: str) -> None:
        """Cancel a client's working order at the gateway, as a trader does in TWS: the client hears it
        Cancelled (202), with what it filled; attached orders follow the exchange's rules."""
        def apply():
            [order] = [o for o in self.exchange.orders.values() if o.ticket.order_ref == order_ref and not o.is_done]
            self.exchange.cancel(order.client_id, order.order_id)
        self._call(apply)

    def hold_cancels(self, order_refs) -> None:
        """Hold the clients' cancel requests for these orders until :meth:`release_cancels`: the orders work
        on meanwhile and can fill, as one can at IB between a cancel's sending and its arrival."""
        self._call(lambda: self.exchange.cancels_held.update(order_refs))

    def release_cancels(self) -> None:
        self._call(self.exchange.release_cancels)

    def pace_next_historical(self, n: int = 1, code: int = 162) -> None:
        self._call(lambda: self.faults.pacing_codes.extend([code] * n))

    def reserve_client_id(self, client_id: int) -> None:
        """Simulate another application holding ``client_id`` (connects get error 326)."""
        self._call(lambda: self.faults.reserved_client_ids.add(client_id))

    def release_client_id(self, client_id: int) -> None:
        self._call(lambda: self.faults.reserved_client_ids.discard(client_id))

    # -- state for assertions -------------------------------------------------------------

    def orders(self) -> list[OrderView]:
        def snapshot():
            return [OrderView(o.order_id, o.client_id, o.perm_id, o.symbol, o.ticket.action, o.ticket.quantity,
                              o.ticket.order_type, o.ticket.lmt_price, o.ticket.aux_price, o.ticket.tif,
                              o.status, o.filled, o.avg_fill_price, o.ticket.order_ref, o.ticket.parent_id,
                              o.ticket.oca_group, o.modifications) for o in self.exchange.orders.values()]
        return self._call(snapshot)

    def fills(self) -> list[Execution]:
        return self._call(lambda: list(self.account.executions))

    def positions(self) -> dict[str, Position]:
        return self._call(lambda: {s: Position(p.quantity, p.avg_cost, p.realized_pnl)
                                   for s, p in self.account.positions.items() if p.quantity})

    def cash(self) -> float:
        return self._call(lambda: self.account.cash)

    def account_values(self) -> dict[str, float]:
        return self._call(lambda: self.account.summary(self.server.prices()))

    def realtime_subscriptions(self) -> dict[int, list[str]]:
        """Client id -> symbols it streams 5-second bars for (to wait until a bot has subscribed)."""
        def snapshot():
            return {s.client_id: sorted(s.realtime.values()) for s in self.server.sessions
                    if s.client_id is not None and not s.closed and s.realtime}
        return self._call(snapshot)

    def set_order_event_tap(self, tap: Callable[[str, int, Any], Any] | None) -> None:
        """Call ``tap(kind, client_id, order)`` on the gateway's loop after every order message it sends
        ("status", "execution", "error", "commission"; ``order``: the SimOrder it is about, or None) and
        at every session open and close ("open", "close"; ``order`` None). The tap may block: the gateway
        stands still meanwhile (a test kills its client right after one particular message)."""
        self._call(lambda: setattr(self.server, "order_event_tap", tap))

    def variation_counts(self) -> dict[str, int]:
        """How often each variation asked for (``variations=``) happened so far."""
        return self._call(lambda: dict(self.variations.counts))

    def reports_pending(self) -> int:
        """Commission reports scheduled after their execution and not yet sent (0: all sent)."""
        return self._call(lambda: self.server.reports_pending)

    def connected_clients(self) -> list[int]:
        return self._call(lambda: sorted(s.client_id for s in self.server.sessions
                                         if s.client_id is not None and not s.closed))
