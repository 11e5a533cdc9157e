"""The replay: the gateway's own clock walking through the dataset, session by session.

Contract:

* Each source bar ``[start, end)`` is played as a price path (see matching.py)
  and sent as 5-second TRADES bars ("pieces"): open, first extreme, second
  extreme and close pieces at 5-second slots spread over the bar, so that
  their aggregation over ``[start, end)`` is exactly the bar (OHLC, and the
  volume split into parts that sum to it). A bar shorter than 20 seconds is
  sent as one piece holding the whole bar.
* A piece stamped ``t`` is delivered at ``t + 5`` (its end), like IB's
  real-time bars; a one-piece bar is delivered at the bar's end.
* Events at the same sim time run in this order: deliveries, then (at a
  source bar's end) a real-time pause, then the next bar's open and price
  moves. The session's last bar is delivered before its closing auction, which
  is followed by the ``session_pause``: a client sees the completed daily bar,
  then its market-on-close fills, and has ``session_pause`` real seconds to
  act on both (e.g. send the exits of a filled entry) before the next session
  opens; within a session ``bar_pause`` follows each bar. The pauses apply
  only while some client subscribes to real-time bars. Parity tests (same
  orders in a backtest and through the gateway) depend on this. A
  ``pause_hook`` (a blocking callable, run in a worker thread) replaces the
  timed pauses: the replay waits until it returns, e.g. until the client
  says it has acted, so a slow machine cannot make the client miss a bar.
* ``speed``: sim seconds per real second (600 = 10 sim minutes per second);
  0 means as fast as possible. Closed hours (nights, weekends, holidays) are
  skipped at any speed.
* The clock can be paused, resumed, or run up to a sim time and paused there.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .dataset import BarSeries
from .sessions import SessionCalendar

AUCTION, DELIVER, BOUNDARY, OPEN, MOVE = range(5)
PIECE_SECONDS = 5


@dataclass(frozen=True)
class Piece:
    """One 5-second TRADES bar, stamped at its start (epoch seconds)."""

    symbol: str
    time: int
    open: float
    high: float
    low: float
    close: float
    volume: float

    @property
    def wap(self) -> float:
        return round((self.high + self.low + self.close) / 3.0, 6)


class ReplaySink(Protocol):
    def on_bar_open(self, symbol: str, price: float) -> None: ...
    def on_move(self, symbol: str, start: float, end: float) -> None: ...
    def close_session(self, close_time: float, closes: dict[str, float]) -> None: ...
    def deliver(self, piece: Piece) -> None: ...
    def has_subscribers(self) -> bool: ...


def split_volume(volume: float, parts: int) -> list[float]:
    """``parts`` volumes that sum exactly to ``volume`` (whole shares where possible)."""
    base = float(np.floor(volume / parts))
    return [base] * (parts - 1) + [volume - base * (parts - 1)]


def bar_pieces(symbol: str, start: int, end: int, o: float, h: float, l: float, c: float,
               v: float) -> tuple[list[Piece], list[tuple[int, float, float]]]:
    """The pieces of one source bar, and the price path as (time, from, to) segments."""
    slots = (end - start) // PIECE_SECONDS
    first, second = (l, h) if c >= o else (h, l)
    path = [o, first, second, c]
    if slots < 4:
        segments = [(start, path[k], path[k + 1]) for k in range(3)]
        return [Piece(symbol, start, o, h, l, c, v)], segments
    at = [start + PIECE_SECONDS * k for k in (0, slots // 3, 2 * slots // 3, slots - 1)]
    volumes = split_volume(v, 4)
    pieces = [Piece(symbol, at[0], o, o, o, o, volumes[0])]
    segments = []
    for k in range(3):
        a, b = path[k], path[k + 1]
        pieces.append(Piece(symbol, at[k + 1], a, max(a, b), min(a, b), b, volumes[k + 1]))
        segments.append((at[k + 1], a, b))
    return pieces, segments


class ReplayClock:
    """Sim time in epoch seconds; glides between events when the replay runs at a finite speed."""

    def __init__(self, start: float, speed: float):
        self.speed = speed
        self._sim = float(start)
        self._glide: tuple[float, float, float] | None = None   # (real start, sim from, sim to)

    def now(self) -> float:
        if self._glide is None:
            return self._sim
        real_start, sim_from, sim_to = self._glide
        return min(sim_from + (time.monotonic() - real_start) * self.speed, sim_to)

    def set(self, moment: float) -> None:
        self._glide = None
        self._sim = max(self._sim, float(moment))

    def glide(self, target: float) -> float:
        """Start gliding towards ``target``; return the real seconds it takes."""
        if self.speed <= 0 or target <= self._sim:
            return 0.0
        self._glide = (time.monotonic(), self._sim, float(target))
        return (target - self._sim) / self.speed


class Replay:
    def __init__(self, series: dict[str, BarSeries], calendar: SessionCalendar, start: float,
                 speed: float, sink: ReplaySink, session_pause: float = 0.05, bar_pause: float = 0.0):
        self.series = series
        self.calendar = calendar
        self.sink = sink
        self.session_pause = session_pause
        self.bar_pause = bar_pause
        self.clock = ReplayClock(start, speed)
        self.start = float(start)
        self.done = asyncio.Event()
        self._gate = asyncio.Event()
        self._gate.set()
        self._stop_at: float | None = None
        self._on_stop: list[asyncio.Future] = []
        self._session_close: float | None = None
        self.pause_hook = None
        self._by_session = self._index_sessions()

    # -- control (call on the loop thread) -----------------------------------------------

    def pause(self) -> None:
        self._gate.clear()

    def resume(self) -> None:
        self._stop_at = None
        self._gate.set()

    def run_until(self, moment: float) -> asyncio.Future:
        """Run up to sim time ``moment``, then pause; the future resolves there (or at the end)."""
        future = asyncio.get_running_loop().create_future()
        if self.done.is_set():
            future.set_result(self.clock.now())
            return future
        self._stop_at = float(moment)
        self._on_stop.append(future)
        self._gate.set()
        return future

    def seconds_to_close(self) -> float | None:
        """Sim seconds from the clock to the close of the session being played; None between sessions."""
        close = self._session_close
        return None if close is None else close - self.clock.now()

    # -- the loop -------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            for day in sorted(self._by_session):
                opened, closed = self.calendar.bounds(day)
                if closed.timestamp() <= self.start:
                    continue
                await self._play_session(day, opened.timestamp(), closed.timestamp())
        finally:
            self.done.set()
            self._release_waiters()

    def _index_sessions(self) -> dict:
        """session day -> [(series, first row, end row)] for bars at or after the start."""
        index: dict = {}
        for series in self.series.values():
            frame = series.frame
            keep = int(np.searchsorted(frame["start"].to_numpy(), self.start, side="left"))
            days = frame["session"].to_numpy()[keep:]
            if not len(days):
                continue
            edges = [0] + [i for i in range(1, len(days)) if days[i] != days[i - 1]] + [len(days)]
            for a, b in zip(edges[:-1], edges[1:]):
                index.setdefault(days[a], []).append((series, keep + a, keep + b))
        return index

    def _session_events(self, day) -> tuple[list, dict[str, float], float]:
        events = []
        closes: dict[str, float] = {}
        last_end = 0.0
        for series, a, b in self._by_session[day]:
            f = series.frame
            rows = zip(f["start"].to_numpy()[a:b], f["end"].to_numpy()[a:b], f["open"].to_numpy()[a:b],
                       f["high"].to_numpy()[a:b], f["low"].to_numpy()[a:b], f["close"].to_numpy()[a:b],
                       f["volume"].to_numpy()[a:b])
            for start, end, o, h, l, c, v in rows:
                start, end = int(start), int(end)
                pieces, segments = bar_pieces(series.symbol, start, end, float(o), float(h), float(l),
                                              float(c), float(v))
                events.append((start, OPEN, len(events), series.symbol, float(o)))
                for moment, a, b_ in segments:
                    events.append((moment, MOVE, len(events), series.symbol, (a, b_)))
                for piece in pieces:
                    deliver_at = piece.time + PIECE_SECONDS if len(pieces) > 1 else end
                    events.append((deliver_at, DELIVER, len(events), series.symbol, piece))
                events.append((end, BOUNDARY, len(events), series.symbol, None))
                last_end = max(last_end, end)
            closes[series.symbol] = float(f["close"].to_numpy()[b - 1])
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        return events, closes, last_end

    async def _play_session(self, day, open_time: float, close_time: float) -> None:
        events, closes, last_end = self._session_events(day)
        await self._advance(min(open_time, events[0][0]), glide=False)
        self._session_close = close_time
        auction_done = False
        previous_time = None
        for moment, kind, _, symbol, payload in events:
            if not auction_done and moment > close_time:
                await self._close_auction(close_time, closes)
                auction_done = True
            if moment != previous_time:
                await self._advance(moment)
                previous_time = moment
            if kind == OPEN:
                self.sink.on_bar_open(symbol, payload)
            elif kind == MOVE:
                self.sink.on_move(symbol, *payload)
            elif kind == DELIVER:
                self.sink.deliver(payload)
            elif kind == BOUNDARY and moment < last_end and self.bar_pause > 0 and self.sink.has_subscribers():
                await self._pause(self.bar_pause)
        if not auction_done:
            await self._close_auction(close_time, closes)
        self._session_close = None

    async def _close_auction(self, close_time: float, closes: dict[str, float]) -> None:
        await self._advance(close_time)
        self.sink.close_session(close_time, closes)
        if self.session_pause > 0 and self.sink.has_subscribers():
            await self._pause(self.session_pause)

    async def _pause(self, seconds: float) -> None:
        hook = self.pause_hook
        if hook is None:
            await asyncio.sleep(seconds)
        else:
            await asyncio.get_running_loop().run_in_executor(None, hook)

    async def _advance(self, moment: float, glide: bool = True) -> None:
        while True:
            if self._stop_at is not None and moment > self._stop_at:
                if glide:
                    await self._glide_to(self._stop_at)
                self.clock.set(self._stop_at)
                self._stop_at = None
                self._gate.clear()
                self._release_waiters()
            if not self._gate.is_set():
                await self._gate.wait()
                continue
            break
        if glide:
            await self._glide_to(moment)
        self.clock.set(moment)
        await asyncio.sleep(0)   # let requests in between events

    async def _glide_to(self, moment: float) -> None:
        """Wait real time for sim time to pass, inside a session only (closed hours are skipped)."""
        if self._session_close is None or moment > self._session_close:
            return
        wait = self.clock.glide(moment)
        if wait > 0:
            await asyncio.sleep(wait)

    def _release_waiters(self) -> None:
        futures, self._on_stop = self._on_stop, []
        for future in futures:
            if not future.done():
                future.set_result(self.clock.now())
