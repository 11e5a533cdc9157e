"""Live backtrader data feed: backfilled history, then 5-second bars built into the strategy's bars.

Times reach backtrader as naive America/New_York wall-clock times, like the
backtest feeds (``runner.backtest.feeds``): intraday bars at their start, daily bars
at the session date's end-of-session time. A bar never reaches the strategy
twice or out of order (see :mod:`runner.ib.bars`).
"""
from __future__ import annotations

import collections
import datetime as dt
import time

import backtrader as bt
from loguru import logger

from runner.errors import DataError, GatewayError
from runner.ib import backfill, events
from runner.ib.bars import Bar, BarAggregator, BarSize
from runner.ib.feed_stall import DAILY_QUIET
from runner.ib.sessions import NEW_YORK, Sessions

try:  # the backtest feeds' convention for daily stamps
    from runner.backtest.feeds import END_OF_SESSION
except ImportError:  # pragma: no cover - foundation not installed
    END_OF_SESSION = dt.time(23, 59, 59, 999989)

#: Safety net (seconds) on the wait for the other feeds to complete the same period, so that a
#: strategy reading several feeds sees them advance together. The wait itself ends on events: the
#: peer's bar arrives, or a gateway clock tick past the period's end closes it, or the peer is stale.
SYNC_SAFETY_NET = 120.0


class IBFeed(bt.feed.DataBase):
    """One symbol from the IB store. Parameters: ``store``, ``symbol``, ``bar_size``, ``backfill_bars``."""

    lines = ("adj_close",)
    params = (
        ("store", None),
        ("symbol", None),
        ("bar_size", "1d"),
        ("backfill_bars", 300),
        ("qcheck", 0.5),
    )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.size = BarSize.parse(self.p.bar_size)
        self.daily = self.size.daily          # the run recorder's convention
        self.delivered: list[Bar] = []        # every bar handed to backtrader, for the run's metrics
        self.live_since: dt.datetime | None = None   # end of the backfill: the report leaves the warm-up out
        self.sessions = Sessions()
        self._history: collections.deque[Bar] = collections.deque()
        self._live: collections.deque[Bar] = collections.deque()
        self.aggregator: BarAggregator | None = None
        self.contract = None
        self.stale = False
        #: Set by the broker's stall watch while the real-time bars have stopped with no error (issue 10).
        self.stalled = False
        self._repair: set[dt.datetime] = set()   # stamps of bars to take from history when they complete
        self._partial: set[dt.datetime] = set()  # of those, bars the stream saw only in part (never delivered so)
        self.finished = False
        self.error: BaseException | None = None
        #: Times ``_load`` found nothing to deliver after pumping the store: the strategy is done with
        #: every bar delivered so far (tests wait on it instead of on the clock).
        self.idle_polls = 0
        self.log = logger.bind(symbol=self.p.symbol, component="ib.feed")

    def islive(self):
        return True

    @property
    def backfilling(self) -> bool:
        """True while a history bar older than the latest completed one is the current bar.

        Decisions on those are replays of the past and are never sent; a decision on the latest
        completed bar is as live as one made the moment that bar completed.
        """
        return bool(self._history)

    def start(self):
        super().start()
        store = self.p.store
        symbol = self.p.symbol or self._name
        self.contract = store.call(store.qualify(symbol), timeout=store.cfg.request_timeout + 5)
        if self.contract is None:
            raise DataError(f"IB does not know the stock {symbol!r} on {store.cfg.exchange}/{store.cfg.currency} "
                            f"(contract qualification failed)")
        try:
            startup = store.call_until_stopped(
                backfill.backfill_to_now(store.history, store.current_time, self.contract, self.size,
                                         int(self.p.backfill_bars), self.sessions))
        except events.SessionEnding:
            # The session ends (--duration, Ctrl-C) while the backfill waits out pacing: nothing goes live.
            self.log.info(f"{symbol}: the session ended during the backfill; not going live")
            self.aggregator = BarAggregator(self.size, self.sessions)
            self.finished = True
            return
        history, now, period_start, seed = startup
        self._history.extend(history)
        after = backfill.period_end(history[-1], self.size, self.sessions) if history else None
        self.live_since = after
        self.aggregator = BarAggregator(self.size, self.sessions, after=after)
        # The store drops streamed bars that start at or before ``last_seen``.
        last_seen = after - dt.timedelta(seconds=5) if after else None
        fill_gap = False
        if seed:
            for b in seed:
                self.aggregator.add(b.time, b.open, b.high, b.low, b.close, b.volume)
            # the last finer bar seeded is complete: streaming (or its gap fill) goes on from its end
            last_seen = seed[-1].time + dt.timedelta(seconds=backfill.finer_seconds(self.size) - 5)
            fill_gap = True
        elif period_start is not None and now > period_start:
            # Streaming starts mid-bar and the gateway has no finer history to rebuild the bar's start: the bar
            # is built from the stream and, once complete, replaced by the gateway's own bar. A bar missing its
            # open would mislead the strategy, so if that history fails too the bar is skipped.
            stamp = self.aggregator.period_of(period_start)[0]   # a daily bar's stamp is its session date
            self._repair.add(stamp)
            self._partial.add(stamp)
            self.log.info(f"started inside the {self.size} bar from {period_start:%Y-%m-%d %H:%M %Z}; it is taken "
                          f"from history once complete")
        self.log.info(f"backfilled {len(history)} {self.size} bars"
                      + (f" up to {self._when(history[-1])}" if history else ""))
        store.feeds.append(self)
        store.subscribe(events.FiveSecondBar, self._on_five_seconds)
        store.subscribe(events.Clock, self._on_clock)
        store.subscribe(events.Gap, self._on_gap)
        store.subscribe(events.Connectivity, self._on_connectivity)
        store.subscribe(events.Fatal, self._on_fatal)
        try:
            store.call_until_stopped(store.subscribe_bars(symbol, self.contract, last_seen, fill_gap=fill_gap))
        except events.SessionEnding:
            self.finished = True
        self.put_notification(self.DELAYED if history else self.LIVE)

    def stop(self):
        super().stop()
        self.finished = True

    # -- messages from the store (backtrader thread) ---------------------------------
    def _on_five_seconds(self, m: events.FiveSecondBar) -> None:
        if m.symbol == (self.p.symbol or self._name):
            self._accept(self.aggregator.add(m.start, m.open, m.high, m.low, m.close, m.volume))

    def _on_clock(self, m: events.Clock) -> None:
        if not (self.stale or self.stalled):   # while bars cannot flow, a silent slot is no sign the bar is over
            if self.size.daily:
                self._quiet_close(m.now)
            self._accept(self.aggregator.advance_to(m.now))
            if self._partial:
                self._take_unseen(m.now)

    def _quiet_close(self, now: dt.datetime) -> None:
        """A daily bar whose stream fell silent well before the close (real-time bars that stopped with no
        error, runner/ib/feed_stall.py) is taken from history once complete, not closed on what streamed."""
        end, last = self.aggregator.pending_end(), self.aggregator.last_start()
        if end is None or last is None or now < end or last + dt.timedelta(seconds=5) >= end - DAILY_QUIET:
            return
        stamp = self.aggregator.period_of(last)[0]
        if stamp not in self._repair:
            self._repair.add(stamp)
            self.log.warning(f"no 5-second bar of {self._when(Bar(stamp, 0.0, 0.0, 0.0, 0.0, 0.0))} since "
                             f"{last:%H:%M:%S %Z}: the bar is taken from history, not closed on what streamed")

    def _take_unseen(self, now: dt.datetime) -> None:
        """A bar streaming began inside whose period ended without one 5-second bar of it: from history."""
        for stamp in sorted(self._partial):
            end = backfill.period_end(Bar(stamp, 0.0, 0.0, 0.0, 0.0, 0.0), self.size, self.sessions)
            if end > now or self.aggregator.pending_end() == end:
                continue
            self._partial.discard(stamp)
            self._repair.discard(stamp)
            rebuilt = self._from_history(Bar(stamp, 0.0, 0.0, 0.0, 0.0, 0.0))
            if rebuilt is None:
                self.log.warning(f"the {self.size} bar from {stamp:%Y-%m-%d %H:%M %Z} is skipped: no 5-second bar "
                                 f"of it came and the gateway has no history of it")
                continue
            self._live.append(rebuilt)
            self.aggregator.skip_until(end)

    def _accept(self, bars: list[Bar]) -> None:
        for bar in bars:
            if bar.time in self._repair:
                self._repair.discard(bar.time)
                rebuilt = self._from_history(bar)
                if rebuilt is None and bar.time in self._partial:
                    self._partial.discard(bar.time)
                    self.log.warning(f"the {self.size} bar from {bar.time:%Y-%m-%d %H:%M %Z} is skipped: streaming "
                                     f"began inside it and the gateway has no history of it")
                    continue
                self._partial.discard(bar.time)
                bar = rebuilt or bar
            self._live.append(bar)

    def _on_gap(self, m: events.Gap) -> None:
        """Streaming missed ``since``..``until``: take completed bars of that span from history,
        and rebuild the bar in progress from history once it completes."""
        if m.symbol != (self.p.symbol or self._name):
            return
        store = self.p.store
        done_before = self.aggregator.delivered_until
        suspect = [b for b in self._live if backfill.period_end(b, self.size, self.sessions) > m.since]
        if suspect:   # built (but not yet delivered) from bars with holes: history replaces them
            self._live = collections.deque(b for b in self._live if b not in suspect)
            done_before = backfill.period_end(self._live[-1], self.size, self.sessions) if self._live else \
                (backfill.period_end(self.delivered[-1], self.size, self.sessions) if self.delivered else None)
        try:
            missed = store.call_until_stopped(backfill.fetch_span(store.history, self.contract, self.size, m.since,
                                                                  m.until, self.sessions))
        except events.SessionEnding:
            return
        except GatewayError as exc:
            self.log.error(f"bars missed during the gap could not be fetched ({exc}); continuing without them")
            missed = []
        for bar in missed:
            end = backfill.period_end(bar, self.size, self.sessions)
            if done_before is None or end > done_before:
                self._live.append(bar)
                self.aggregator.skip_until(end)
        current = self.aggregator.period_of(m.until)
        if current is not None and (self.aggregator.delivered_until is None
                                    or current[1] > self.aggregator.delivered_until):
            self._repair.add(current[0])
        self.log.warning(f"gap in 5-second bars {m.since:%Y-%m-%d %H:%M:%S}..{m.until:%H:%M:%S}: "
                         f"{len(self._live)} bar(s) from history" + (", the bar in progress will be too"
                                                                     if self._repair else ""))

    def _from_history(self, bar: Bar) -> Bar | None:
        store = self.p.store
        end = backfill.period_end(bar, self.size, self.sessions)
        try:
            found = store.call_until_stopped(backfill.fetch_span(store.history, self.contract, self.size, bar.time,
                                                                 end, self.sessions))
        except events.SessionEnding:
            return None
        except GatewayError as exc:
            self.log.error(f"could not rebuild the {bar.time:%Y-%m-%d %H:%M} bar from history ({exc}); it lacks "
                           f"the 5-second bars missed during the gap")
            return None
        found = [b for b in found if b.time == bar.time]
        return found[-1] if found else None

    def _on_connectivity(self, m: events.Connectivity) -> None:
        was = self.stale
        self.stale = m.state == "lost"
        if self.stale != was:
            self.log.warning("data stale: gateway connectivity lost" if self.stale else "data flowing again")
            self.put_notification(self.DISCONNECTED if self.stale else self.LIVE)

    def _on_fatal(self, m: events.Fatal) -> None:
        self.error = m.error
        self.finished = True

    # -- backtrader's pull ----------------------------------------------------------
    def _load(self):
        if self._history:
            bar = self._history.popleft()
            if not self._history:
                self.log.info(f"history replayed up to {self._when(bar)}; live from here")
                self.put_notification(self.LIVE)
            return self._deliver(bar)
        if not self._live and not self.finished:
            # Never wait for news while another feed has bars ready: with a 1-minute feed beside a daily one,
            # the daily feed's wait would otherwise hold up every minute bar (and the orders decided on it).
            busy = any(f._live for f in self.p.store.feeds if f is not self)
            if not self.p.store.pump(timeout=0.0 if busy else self._qcheck) and not self._live:
                self.idle_polls += 1
        if self._live:
            self._wait_for_peers(backfill.period_end(self._live[0], self.size, self.sessions))
            return self._deliver(self._live.popleft())
        return False if self.finished else None

    def awaits_period(self, end: dt.datetime) -> bool:
        """True while this feed builds a bar of a period ending at or before ``end``."""
        pending = self.aggregator.pending_end() if self.aggregator is not None else None
        return pending is not None and pending <= end and not self.finished

    def _wait_for_peers(self, end: dt.datetime) -> None:
        peers = [f for f in self.p.store.feeds if f is not self]
        deadline = time.monotonic() + SYNC_SAFETY_NET
        while any(f.awaits_period(end) and not (f.stale or f.stalled) for f in peers):
            if time.monotonic() > deadline:
                late = [f.p.symbol for f in peers if f.awaits_period(end)]
                self.log.warning(f"{', '.join(late)} did not complete the bar ending {end:%Y-%m-%d %H:%M %Z} "
                                 f"in {SYNC_SAFETY_NET:g} s; going on without")
                return
            self.p.store.pump(timeout=0.05)

    def _when(self, bar: Bar) -> str:
        """A bar said for the log: a daily bar by its session, an intraday bar by its start with the zone."""
        if self.size.daily:
            return f"the {bar.time:%Y-%m-%d} session"
        return f"the {bar.time:%Y-%m-%d %H:%M %Z} bar"

    def bars_known(self) -> list[tuple[Bar, dt.datetime]]:
        """Every completed bar this feed holds (delivered, then the backfill still to deliver), oldest first,
        each with its period's end: the price history the broker reads for what filled while no run was
        connected (runner/ib/away_fills.py)."""
        return [(b, backfill.period_end(b, self.size, self.sessions)) for b in [*self.delivered, *self._history]]

    def haslivedata(self):
        return bool(self._history or self._live)

    def _deliver(self, bar: Bar) -> bool:
        self.delivered.append(bar)
        local = bar.time.astimezone(NEW_YORK).replace(tzinfo=None)
        if self.size.daily:
            local = dt.datetime.combine(local.date(), END_OF_SESSION)
        self.lines.datetime[0] = bt.date2num(local)
        self.lines.open[0] = bar.open
        self.lines.high[0] = bar.high
        self.lines.low[0] = bar.low
        self.lines.close[0] = bar.close
        self.lines.volume[0] = bar.volume
        self.lines.adj_close[0] = bar.close
        self.lines.openinterest[0] = 0.0
        return True
