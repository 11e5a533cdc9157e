"""Running the IB feed and broker against the in-process simulated gateway, with bounded waits."""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

import backtrader as bt
import numpy as np
import pandas as pd

from runner.ib import events
from runner.ib.broker import IBBroker
from runner.ib.feed import IBFeed
from runner.ib.ib_config import IBConfig, RiskLimits
from runner.ib.store import IBStore
from sim_follow import PATIENCE, caught_up, follow, follow_session, wait_for  # noqa: F401  (re-exported)


def synthetic_daily(symbol_seed: int = 1, sessions: int = 40, start: str = "2018-10-01",
                    price: float = 100.0) -> pd.DataFrame:
    """Deterministic daily bars on XNYS sessions, stamped at the session date (midnight, New York)."""
    from runner.ib.sessions import Sessions

    cal = Sessions()
    days = []
    day = pd.Timestamp(start).date()
    while len(days) < sessions:
        if cal.is_session(day):
            days.append(day)
        day += pd.Timedelta(days=1)
    rng = np.random.default_rng(symbol_seed)
    closes = price * np.cumprod(1 + rng.normal(0, 0.01, sessions))
    opens = np.r_[price, closes[:-1]] * (1 + rng.normal(0, 0.002, sessions))
    highs = np.maximum(opens, closes) * (1 + np.abs(rng.normal(0, 0.004, sessions)))
    lows = np.minimum(opens, closes) * (1 - np.abs(rng.normal(0, 0.004, sessions)))
    index = pd.DatetimeIndex([pd.Timestamp(d) for d in days]).tz_localize("America/New_York")
    return pd.DataFrame({"open": opens.round(2), "high": highs.round(2), "low": lows.round(2),
                         "close": closes.round(2), "volume": 1_000_000.0}, index=index)


#: A daily replay's default shape in these tests: sessions served, of which the first are history.
SESSIONS, WARMUP = 30, 20


def gateway(bars, **kw):
    """A paused simulated gateway serving ``bars`` as SPY, history first, paced on a fast clock."""
    from runner.sim import SimulatedGateway

    options = dict(speed=0, warmup_sessions=WARMUP, paused=True, wire_log=False, session_pause=0.05,
                   pacing_time_scale=0.01)
    options.update(kw)
    return SimulatedGateway(bars={"SPY": bars}, **options)


#: The same for a whole replay, whose gateway waits for the bot at every session close (minutes when loaded).
REPLAY_PATIENCE = 600.0


def settle(store, feeds) -> None:
    """Return once the strategy has acted on every bar delivered so far and its orders reached the gateway.

    Two idle polls of every feed, counted once the store's queue is empty, mean a whole backtrader
    cycle ran after the last message (counted from before, an event still on its way would void
    them); a contract request (its own request id, unlike reqCurrentTime whose answer the store's
    clock poll may take) then travels the socket behind every order the strategy handed to the store.
    """
    feeds = list(feeds)
    assert wait_for(store.events.empty), "the bot did not take its messages"
    marks = {id(f): f.idle_polls for f in feeds}
    assert wait_for(lambda: store.events.empty() and all(f.idle_polls >= marks[id(f)] + 2 for f in feeds)), \
        "the bot did not come back to waiting for bars"
    store.call(store.qualify(feeds[0].p.symbol), timeout=PATIENCE)


def step_sessions(gw, store, feeds, days, at: dt.time = dt.time(16, 1)) -> None:
    """Replay session by session, letting the bot act on each completed bar before the next one opens.

    The simulator pauses at ``at`` of each day in ``days`` (New York) until the bot has settled, so
    orders sent on a bar reach the gateway before the next session, however slow the machine is.
    """
    for day in days:
        moment = pd.Timestamp(dt.datetime.combine(day, at), tz="America/New_York")
        if moment > gw.clock:
            gw.advance_to(moment, timeout=PATIENCE)
            settle(store, feeds)


@dataclass
class LiveRun:
    """A Cerebro with IB feeds and the IB broker, running in a background thread."""

    store: IBStore
    broker: IBBroker
    feeds: dict
    cerebro: bt.Cerebro
    thread: threading.Thread | None = None
    strategies: list = field(default_factory=list)
    error: BaseException | None = None
    gateway: object = None

    def start(self) -> "LiveRun":
        """Run Cerebro in its thread; the gateway waits for this bot at every session close."""
        if self.gateway is not None:
            follow(self.gateway, self.store, self.broker, self.feeds.values())
        def target():
            try:
                self.strategies = self.cerebro.run(runonce=False, preload=False)
            except BaseException as exc:  # surfaced by stop()
                self.error = exc
        self.thread = threading.Thread(target=target, name="cerebro", daemon=True)
        self.thread.start()
        return self

    @property
    def strategy(self):
        return self.cerebro.runningstrats[0]

    def stop(self, timeout: float = PATIENCE) -> None:
        if self.gateway is not None:
            self.gateway.set_pause_hook(None)
        for feed in self.feeds.values():
            feed.finished = True
        self.cerebro.runstop()
        if self.thread is not None:
            self.thread.join(timeout)
            assert not self.thread.is_alive(), "cerebro did not stop"
        self.store.stop()
        if self.error is not None:
            raise self.error


def live_run(gw, library: str, strategy, tmp_path, symbols=("SPY",), backfill_bars: int = 20,
             risk: RiskLimits | None = None, client_id: int = 7, journal=None, **strategy_params) -> LiveRun:
    cfg = IBConfig(port=gw.port, library=library, client_id=client_id, connect_timeout=30,
                   journal=journal or tmp_path / "journal.sqlite", reconnect_give_up=20, backoff_initial=0.1,
                   backoff_max=0.5, pacing_backoff=0.2)
    store = IBStore(cfg)
    store.clock_interval = 0.2
    snapshot = store.connect()
    feeds = {s: IBFeed(store=store, symbol=s, bar_size="1d", backfill_bars=backfill_bars, name=s, qcheck=0.1)
             for s in symbols}
    broker = IBBroker(store, snapshot, risk)
    broker.register_feeds(list(feeds.values()))
    cerebro = bt.Cerebro(stdstats=False, quicknotify=True)
    for name, feed in feeds.items():
        cerebro.adddata(feed, name=name)
    cerebro.setbroker(broker)
    cerebro.addstrategy(strategy, **strategy_params)
    return LiveRun(store, broker, feeds, cerebro, gateway=gw)


class Recorder(bt.Strategy):
    """Records bars and order notifications; ``plan(strategy, bar_number)`` sends orders."""

    params = (("plan", None),)

    def __init__(self):
        self.bars = []
        self.notes = []
        self.orders = {}

    def next(self):
        d = self.datas[0]
        self.bars.append((d.datetime.date(0), d.open[0], d.high[0], d.low[0], d.close[0], d.volume[0]))
        if self.p.plan is not None:
            self.p.plan(self, len(self))

    def notify_order(self, order):
        self.notes.append((order.info.get("name", order.ref), order.getstatusname(), order.executed.size,
                           order.executed.price))

    def statuses(self, name):
        return [s for n, s, _, _ in self.notes if n == name]


__all__ = ["synthetic_daily", "wait_for", "settle", "step_sessions", "PATIENCE", "REPLAY_PATIENCE", "live_run", "Recorder", "LiveRun", "events", "follow", "follow_session", "caught_up"]
