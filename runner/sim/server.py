"""The gateway's socket server: sessions, fan-out of market and order events, faults on the wire.

Contract: ``GatewayServer`` listens on one loopback address, keeps one
``ClientSession`` per connection and routes what the exchange and the replay
report to the sessions that should hear it, like a real gateway:

* order updates (openOrder, then orderStatus twice, as IB Gateway repeats
  it), fills (execDetails, then the order update, then the commission report
  ``commission_delay`` seconds of real time later, 100-300 ms by default) and
  order errors go to the sessions of the client id that placed the order;
* positions, portfolio and account values go to the sessions subscribed to
  them, after every fill and at every session close;
* 5-second bars go to the sessions subscribed to that symbol's real-time bars,
  unless connectivity is down (1100): then order statuses, executions and
  commission reports are held back too and sent once it is back; 1101 (restored, data lost) ends every
  market and account data subscription (real-time bars, account updates,
  positions), which the client must request again. A stalled feed (``FaultPlan.silent_requests`` /
  ``silent_symbols``) sends nothing and says nothing, everything else working on.
It never binds anything but a loopback address.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import random
import time
from dataclasses import dataclass

from loguru import logger

from . import layouts, statements
from .account import Account, Execution
from .contracts import ContractBook
from .dataset import BarSeries, to_new_york
from .exchange import SimExchange
from .faults import FaultPlan, standard_message
from .handlers import RequestHandlers
from .orders import SimOrder
from .pacing import PacingGuard
from .replay import Piece, Replay
from .session import ClientSession
from .variations import Variations
from .sessions import SessionCalendar


@dataclass
class GatewayOptions:
    account: str = "DU1234567"
    push_open_orders: bool = True          # open orders sent unsolicited at connect, like TWS
    wire_log: bool = True                  # every message in/out at debug level
    #: reqExecutions and reqCompletedOrders cover the current trading day only, like IB (None);
    #: N > 0 widens that to the last N sim days (a rehearsal convenience, not IB's behaviour).
    executions_days: int | None = None
    #: (low, high) seconds of real time between an execution and its commission report; (0, 0): at once.
    commission_delay: tuple[float, float] = (0.1, 0.3)
    seed: int = 0

    def executions_since(self, now: float) -> float:
        if self.executions_days:
            return now - self.executions_days * 86_400
        midnight = to_new_york(now).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight.timestamp()


def require_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ValueError(f"the simulated gateway binds loopback only, not {host!r}")


class GatewayServer:
    def __init__(self, host: str, port: int, options: GatewayOptions, account: Account,
                 contracts: ContractBook, series: dict[str, BarSeries], calendar: SessionCalendar,
                 pacing: PacingGuard, faults: FaultPlan, variations: Variations | None = None):
        require_loopback(host)
        self.host = host
        self.port = port
        self.options = options
        self.account = account
        self.contracts = contracts
        self.series = series
        self.calendar = calendar
        self.pacing = pacing
        self.faults = faults
        self.variations = variations or Variations()
        self._quiet: dict[int, bool] = {}            # permId -> its going live is unannounced (quiet_live)
        self.handlers = RequestHandlers(self)
        self.exchange: SimExchange | None = None      # set by the gateway after construction
        self.replay: Replay | None = None
        self.sessions: set[ClientSession] = set()
        self._listener: asyncio.base_events.Server | None = None
        self._numbers = 0
        self._restart_now: asyncio.Event | None = None   # set while a simulated restart waits
        self._listening_again: asyncio.Event | None = None   # set once that restart listens again
        self._serving: set[asyncio.Task] = set()
        self._delays = random.Random(options.seed)
        #: Every historical-data request received, served or refused: (conId, end, duration, bar size,
        #: what to show, RTH, the simulated time it came); tests count duplicates with it.
        self.history_log: list[tuple] = []
        self.reports_pending = 0                      # commission reports scheduled, not yet sent
        #: Called on the loop with (kind, client_id) for every order message sent to a client ("status",
        #: "execution", "error", "commission") and at every source bar's open and session close ("open",
        #: "close"): tests stop the world at one of them (e.g. to kill the client).
        self.order_event_tap = None
        self._held_order_messages: list[tuple[ClientSession, list]] = []   # while 1100 lasts
        self._masked = options.account[:2] + "*" * max(len(options.account) - 4, 1) + options.account[-2:]

    # -- listening ------------------------------------------------------------------------

    async def listen(self) -> None:
        self._listener = await asyncio.start_server(self._accept, self.host, self.port, reuse_address=True)
        self.port = self._listener.sockets[0].getsockname()[1]
        logger.info(f"simulated gateway listening on {self.host}:{self.port}")

    async def stop_listening(self) -> None:
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()
            self._listener = None

    async def drop_all(self, restart_seconds: float = 0.0) -> None:
        """Close every connection; with ``restart_seconds`` also refuse new ones that long."""
        if restart_seconds > 0:
            self.faults.refuse_until = time.monotonic() + restart_seconds
            await self.stop_listening()
        for session in list(self.sessions):
            session.close()
        logger.info(f"simulated gateway dropped all connections (restart {restart_seconds:g} s)")
        if restart_seconds > 0:
            self._restart_now, listening = asyncio.Event(), asyncio.Event()
            self._listening_again = listening
            try:
                await asyncio.wait_for(self._restart_now.wait(), restart_seconds)
            except asyncio.TimeoutError:
                pass
            self._restart_now = None
            self.faults.refuse_until = 0.0
            try:
                await self.listen()
            finally:
                listening.set()

    async def end_restart(self) -> None:
        """Finish a simulated restart now instead of at its planned end; returns once it listens again
        (a client connecting right after is not refused)."""
        if self._restart_now is not None:
            self._restart_now.set()
            await self._listening_again.wait()

    async def shutdown(self) -> None:
        await self.stop_listening()
        for session in list(self.sessions):
            session.close()
        if self._serving:
            # Let each connection's task see its socket closed, so none is destroyed pending.
            await asyncio.wait(list(self._serving), timeout=2.0)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._numbers += 1
        session = ClientSession(self, reader, writer, self._numbers)
        self.sessions.add(session)
        task = asyncio.current_task()
        self._serving.add(task)
        try:
            await session.serve()
        finally:
            self._serving.discard(task)

    def forget(self, session: ClientSession) -> None:
        self.sessions.discard(session)

    # -- shared views ---------------------------------------------------------------------

    def clock(self) -> float:
        return self.replay.clock.now()

    def now(self) -> dt.datetime:
        return to_new_york(self.clock())

    def prices(self) -> dict[str, float]:
        prices = {}
        now = self.clock()
        for symbol, series in self.series.items():
            last = series.last_price(now)
            if last is not None:
                prices[symbol] = last
        prices.update(self.exchange.last_prices)
        return prices

    def mask(self, text: str) -> str:
        return text.replace(self.options.account, self._masked)

    def client_id_taken(self, client_id: int) -> bool:
        if client_id in self.faults.reserved_client_ids:
            return True
        return any(s.client_id == client_id and not s.closed for s in self.sessions)

    def sessions_of(self, client_id: int) -> list[ClientSession]:
        return [s for s in self.sessions if s.client_id == client_id and not s.closed]

    def account_statement(self, symbols: list[str] | None = None) -> list[list]:
        return statements.account_update(self.account, self.contracts, self.prices(), self.now(), symbols)

    def account_multi_statement(self, req_id: int) -> list[list]:
        return [layouts.account_update_multi(req_id, self.account.account_id, k, v, c)
                for k, v, c in statements.account_values(self.account, self.prices())]

    def broadcast_error(self, code: int, message: str | None = None, req_id: int = -1) -> None:
        for session in list(self.sessions):
            if session.client_id is not None:
                session.send(layouts.error(req_id, code, message or standard_message(code)))

    # -- ExchangeListener -----------------------------------------------------------------

    def _tap(self, kind: str, client_id: int, order: SimOrder | None = None) -> None:
        if self.order_event_tap is not None:
            self.order_event_tap(kind, client_id, order)

    def _order_messages(self, session: ClientSession, messages: list) -> None:
        """Order statuses, executions and commission reports: held back while the gateway has lost IB (1100)
        and sent once it is back (1101/1102), as IB Gateway does ("execution reports ... will be delayed
        until the reset is complete"); the orders themselves go on working meanwhile."""
        if self.faults.connectivity_lost:
            self._held_order_messages.append((session, list(messages)))
        else:
            session.send_all(messages)

    def _order_update(self, order: SimOrder) -> list:
        """openOrder and the orderStatus twice (see statements.order_update), as the variations asked for vary it."""
        messages = statements.order_update(self.exchange, order, repeat_status=True)
        if order.last_fill_price and self.variations.happens("last_fill_zero"):
            messages[-1] = list(messages[-1])
            messages[-1][8] = 0.0                     # lastFillPrice of the repeat
        return messages

    def _goes_live_quietly(self, order: SimOrder) -> bool:
        if order.ticket.order_type != "MKT" or order.filled or order.status not in ("PreSubmitted", "Submitted"):
            return False
        if order.perm_id not in self._quiet:
            self._quiet[order.perm_id] = self.variations.happens("quiet_live")
        return self._quiet[order.perm_id]

    def order_updated(self, order: SimOrder) -> None:
        quiet = self._goes_live_quietly(order)
        for session in self.sessions_of(order.client_id):
            messages = self._order_update(order)
            self._order_messages(session, messages[:1] if quiet else messages)
        self._tap("status", order.client_id, order)

    def order_error(self, client_id: int, order_id: int, code: int, message: str) -> None:
        for session in self.sessions_of(client_id):
            session.send(layouts.error(order_id, code, message))
        self._tap("error", client_id)

    def executed(self, order: SimOrder, execution: Execution) -> None:
        listing = self.exchange.listing_of(order)
        sessions = self.sessions_of(order.client_id)
        status_first = self.variations.happens("status_first")
        if status_first:
            for session in sessions:
                self._order_messages(session, self._order_update(order))
            self._tap("status", order.client_id, order)
        for session in sessions:
            self._order_messages(session, [layouts.execution(-1, execution, listing, to_new_york(execution.time))])
        self._tap("execution", order.client_id, order)
        if not status_first:
            for session in sessions:
                self._order_messages(session, self._order_update(order))
            self._tap("status", order.client_id, order)
        low, high = self.options.commission_delay
        report = layouts.commission_report(execution)
        if high <= 0:
            for session in sessions:
                self._order_messages(session, [report])
            self._tap("commission", order.client_id, order)
            return
        self.reports_pending += 1

        def send_report():
            self.reports_pending -= 1
            for session in sessions:
                self._order_messages(session, [report])   # a closed session drops it: reqExecutions has it later
            self._tap("commission", order.client_id, order)
        asyncio.get_running_loop().call_later(self._delays.uniform(low, high), send_report)

    def positions_changed(self, symbol: str) -> None:
        for session in list(self.sessions):
            if session.positions:
                session.send_all(statements.positions(self.account, self.contracts, [symbol]))
            if session.account_updates:
                session.send_all(self.account_statement([symbol]))
            for req_id in session.account_multi:
                session.send_all(self.account_multi_statement(req_id))

    # -- ReplaySink -----------------------------------------------------------------------

    def on_bar_open(self, symbol: str, price: float) -> None:
        self.exchange.on_bar_open(symbol, price)
        for client_id in sorted({s.client_id for s in self.sessions if s.client_id is not None and not s.closed}):
            self._tap("open", client_id)

    def on_move(self, symbol: str, start: float, end: float) -> None:
        self.exchange.on_move(symbol, start, end)

    def close_session(self, close_time: float, closes: dict[str, float]) -> None:
        self.exchange.close_session(close_time, closes)
        for session in list(self.sessions):
            if session.account_updates:
                session.send_all(self.account_statement())
        for client_id in sorted({s.client_id for s in self.sessions if s.client_id is not None and not s.closed}):
            self._tap("close", client_id)

    def deliver(self, piece: Piece) -> None:
        if self.faults.connectivity_lost:
            return
        for session in list(self.sessions):
            for req_id, symbol in session.realtime.items():
                if symbol == piece.symbol and not self.faults.bars_silenced(session.number, req_id, symbol):
                    session.send(layouts.realtime_bar(req_id, piece.time, piece.open, piece.high, piece.low,
                                                      piece.close, piece.volume, piece.wap, 1))

    def has_subscribers(self) -> bool:
        return any(session.realtime for session in self.sessions)

    # -- connectivity faults --------------------------------------------------------------

    def connectivity(self, code: int, message: str | None = None) -> None:
        """1100 stops the bar stream; 1101 restores it and drops subscriptions; 1102 resumes."""
        if code == 1100:
            self.faults.connectivity_lost = True
        elif code in (1101, 1102):
            self.faults.connectivity_lost = False
            if code == 1101:
                for session in self.sessions:
                    session.realtime.clear()
                    session.account_updates = session.positions = False
                    session.account_multi.clear()
        self.broadcast_error(code, message)
        if not self.faults.connectivity_lost:
            held, self._held_order_messages = self._held_order_messages, []
            for session, messages in held:
                if not session.closed:
                    session.send_all(messages)
