"""Paper-trading speed against the simulated gateway (loopback, in-process).

1. Decision latency: the time from the last 5-second bar of a daily bar
   arriving at the bot (decoded by the IB library) to the order that bar's
   decision makes leaving the bot (handed to the socket). A strategy that
   sends one market order on every completed bar; median and 99th percentile.
2. Replay: one year of daily bars (252 sessions) through the gateway at full
   speed, from the first bar to the bot having delivered the last one.

    python bench/paper_latency.py [--library ib_insync|ib_async] [--sessions 252]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import backtrader as bt
import numpy as np
import pandas as pd
from loguru import logger

from runner.ib.broker import IBBroker
from runner.ib.feed import IBFeed
from runner.ib.ib_config import IBConfig
from runner.ib.sessions import Sessions
from runner.ib.store import IBStore
from runner.sim import SimulatedGateway


def daily_bars(sessions: int, first: str = "2017-01-03") -> pd.DataFrame:
    calendar = Sessions()
    days = calendar.sessions_between(pd.Timestamp(first).date(), pd.Timestamp("2030-01-01").date())[:sessions]
    rng = np.random.default_rng(7)
    close = 100 * np.cumprod(1 + rng.normal(0, 0.01, sessions))
    open_ = np.r_[100.0, close[:-1]]
    index = pd.DatetimeIndex([pd.Timestamp(d) for d in days]).tz_localize("America/New_York")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.002,
                         "low": np.minimum(open_, close) * 0.998, "close": close, "volume": 1e6}, index=index)


class EveryBar(bt.Strategy):
    """One market order per completed bar (alternating sides), or none when ``trade`` is False."""

    params = (("trade", True),)

    def next(self):
        if self.p.trade:
            (self.buy if len(self) % 2 else self.sell)(size=1)


def session(gw: SimulatedGateway, library: str, folder: Path, trade: bool):
    store = IBStore(IBConfig(port=gw.port, library=library, client_id=5, backfill_bars=0,
                             journal=folder / f"journal-{library}-{trade}.sqlite"))
    store.trace = []
    snapshot = store.connect()
    feed = IBFeed(store=store, symbol="SPY", bar_size="1d", backfill_bars=0, name="SPY", qcheck=0.05)
    broker = IBBroker(store, snapshot)
    broker.register_feeds([feed])
    cerebro = bt.Cerebro(stdstats=False, quicknotify=True)
    cerebro.adddata(feed, name="SPY")
    cerebro.setbroker(broker)
    cerebro.addstrategy(EveryBar, trade=trade)
    worker = threading.Thread(target=lambda: cerebro.run(runonce=False, preload=False), daemon=True)
    worker.start()
    deadline = time.monotonic() + 30
    while not gw.realtime_subscriptions() and time.monotonic() < deadline:
        time.sleep(0.01)
    return store, feed, cerebro, worker


def finish(store, feed, cerebro, worker) -> None:
    feed.finished = True
    cerebro.runstop()
    worker.join(30)
    store.stop()


def measure_latency(library: str, sessions: int, folder: Path) -> list[float]:
    bars = daily_bars(sessions)
    with SimulatedGateway(bars={"SPY": bars}, speed=0, paused=True, wire_log=False, session_pause=0.05) as gw:
        store, feed, cerebro, worker = session(gw, library, folder, trade=True)
        gw.resume()
        gw.wait_until_done(600)
        time.sleep(0.5)
        finish(store, feed, cerebro, worker)
    latencies, last_bar = [], None
    for kind, _key, at in store.trace:
        if kind == "bar":
            last_bar = at
        elif kind == "order" and last_bar is not None:
            latencies.append((at - last_bar) * 1000.0)
            last_bar = None   # one order per bar period
    return latencies


def measure_replay(library: str, sessions: int, folder: Path) -> float:
    bars = daily_bars(sessions)
    last = bars.index[-1].date()
    with SimulatedGateway(bars={"SPY": bars}, speed=0, paused=True, wire_log=False, session_pause=0.0) as gw:
        store, feed, cerebro, worker = session(gw, library, folder, trade=False)
        started = time.perf_counter()
        gw.resume()
        while not (feed.delivered and feed.delivered[-1].time.date() >= last):
            time.sleep(0.001)
        elapsed = time.perf_counter() - started
        finish(store, feed, cerebro, worker)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", choices=["ib_insync", "ib_async"], default=None, help="default: both")
    parser.add_argument("--sessions", type=int, default=252)
    args = parser.parse_args()
    logger.remove()
    libraries = [args.library] if args.library else ["ib_insync", "ib_async"]
    with tempfile.TemporaryDirectory() as tmp:
        for library in libraries:
            lat = sorted(measure_latency(library, args.sessions, Path(tmp)))
            p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
            replay = measure_replay(library, args.sessions, Path(tmp))
            print(f"{library}: bar-to-order latency over {len(lat)} orders: median {statistics.median(lat):.2f} ms, "
                  f"p99 {p99:.2f} ms, max {lat[-1]:.2f} ms; replay of {args.sessions} daily bars at full speed: "
                  f"{replay:.2f} s ({args.sessions / replay:.0f} bars/s)")


if __name__ == "__main__":
    main()
