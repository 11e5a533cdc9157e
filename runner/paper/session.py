"""A paper-trading session through IB Gateway: the same Cerebro as a backtest, live feeds and the IB broker.

``run_paper`` connects (refusing live ports and live accounts), reconciles
with the account, backfills, streams bars, runs the configured playbooks and
writes the same run folder as a backtest. Ctrl-C, SIGTERM and ``duration``
end the session cleanly (exit 0); resting orders stay at the gateway unless
``ib.cancel_on_exit`` is set.
"""
from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pandas as pd
from loguru import logger

from runner.backtest.run import BacktestResult, _finite, write_backtest_outputs
from runner.config import RunConfig, resolved_yaml
from runner.backtest.engine import build_cerebro
from runner.errors import FlowbotError
from runner.ib import library_noise
from runner.ib.broker import IBBroker
from runner.ib.broker_held_entries import SendHeldOrders
from runner.paper.feed_plan import plan_feeds
from runner.paper.monitor import session_monitor
from runner.ib.feed import IBFeed
from runner.ib.safety import check_port
from runner.ib.store import IBStore
from runner.log_setup import add_run_log
from runner.report.playbook_figures import paper_metrics
from runner.report.run_folder import create_run_folder, discard_run_folder, existing_folder


class PaperSession:
    """One connected session; ``stop()`` may be called from any thread or a signal handler."""

    def __init__(self, cfg: RunConfig, journal_dir: Path, folder: Path | None = None,
                 status_port: int | None = None) -> None:
        self.cfg = cfg
        self.store = IBStore(cfg.ib, journal_dir=journal_dir)
        self.feeds: dict[str, IBFeed] = {}
        self.cerebro = None
        self.broker: IBBroker | None = None
        self.stop_reason: str | None = None
        # status.json, orders.csv / trades.csv as events happen, notifications, the status page
        self.monitor = session_monitor(cfg, folder, status_port)
        self.runlog = self.monitor.runlog
        self._quiet_library = None   # detaches the library-noise log filter
        self.run_cfg = cfg          # the Cerebro's config: feeds renamed where a symbol has two bar sizes

    def start(self) -> None:
        self.run_cfg, plans = plan_feeds(self.cfg)
        self.monitor.start()
        self._quiet_library = library_noise.install(library_noise.store_noise(self.store))
        snapshot = self.store.connect()
        for plan in plans.values():
            self.feeds[plan.name] = IBFeed(store=self.store, symbol=plan.ib_symbol, bar_size=str(plan.size),
                                           backfill_bars=plan.backfill_bars, name=plan.name)
        self.broker = IBBroker(self.store, snapshot, self.cfg.risk, on_halt=self._risk_stop)
        self.broker.feed_of_strategy = {s.display_name: s.symbol for s in self.run_cfg.active_strategies()}
        self.broker.register_feeds(list(self.feeds.values()))
        self.cerebro = build_cerebro(self.run_cfg, self.feeds, self.broker, runlog=self.runlog)
        # Before the monitor's view: an entry held for exits that never came goes out in its own cycle.
        self.cerebro.addanalyzer(SendHeldOrders, _name="send_held_orders")
        self.monitor.attach(self)

    def run(self) -> None:
        self.cerebro.run(runonce=False, preload=False, exactbars=False)
        for feed in self.feeds.values():
            if feed.error is not None:
                raise feed.error

    def stop(self, reason: str = "stop requested") -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            logger.info(f"ending the paper session: {reason}")
            self.monitor.on_stop(reason)
        self.store.interrupt()   # a backfill waiting out IB's pacing ends now, not after its retries
        for feed in self.feeds.values():
            feed.finished = True
        if self.cerebro is not None:
            self.cerebro.runstop()

    def _risk_stop(self, why: str) -> None:
        self.monitor.on_risk_stop(why)
        self.stop(why)

    def close(self) -> None:
        if self.cfg.ib.cancel_on_exit and self.broker is not None:
            for ref in list(self.broker.orders):
                self.store.cancel(ref)
            time.sleep(0.5)   # let the cancels leave before the socket closes
        self.store.stop()
        self.monitor.close()
        if self._quiet_library is not None:
            self._quiet_library()


def feed_symbols(cfg: RunConfig) -> dict[str, str]:
    """Feed name -> IB symbol for every active playbook (its instrument and extra feeds)."""
    return {name: plan.ib_symbol for name, plan in plan_feeds(cfg)[1].items()}


def run_paper(cfg: RunConfig, *, duration: float | None = None, out_dir: Path | str | None = None,
              status_port: int | None = None) -> int:
    """Run a paper session; return the exit code (0 = clean end). Errors raise FlowbotError subclasses."""
    check_port(cfg.ib.port)   # before anything is created or connected
    existed = existing_folder(Path(out_dir) if out_dir else cfg.output.folder)
    folder = create_run_folder(cfg.output.folder, "paper", cfg.name, Path(out_dir) if out_dir else None)
    sink = add_run_log(folder / "run.log", cfg.logging.file_level)
    session = PaperSession(cfg, journal_dir=Path(cfg.output.folder), folder=folder, status_port=status_port)
    previous = _install_signal_handlers(session)
    timer = None
    live = False   # a session that never went live (gateway unreachable, refused) leaves no run folder
    try:
        logger.info(f"paper {cfg.name}: run folder {folder}")
        logger.debug("effective config:\n" + resolved_yaml(cfg))
        session.start()
        live = True
        if duration is not None:
            timer = threading.Timer(duration, session.stop, args=(f"--duration {duration:g} s elapsed",))
            timer.daemon = True
            timer.start()
        session.run()
        write_outputs(folder, cfg, session)
        logger.info(f"paper session ended ({session.stop_reason or 'feeds finished'}); run folder {folder}")
        return 0
    except BaseException as exc:
        if live:   # what the session did is kept: orders.csv, run.log, status.json, and the figures so far
            _write_what_it_has(folder, cfg, session)
            exc.run_folder = folder   # the CLI's message says where it is
        raise
    finally:
        if timer is not None:
            timer.cancel()
        _restore_signal_handlers(previous)
        session.close()
        logger.remove(sink)
        if not live:
            discard_run_folder(folder, existed)


def write_outputs(folder: Path, cfg: RunConfig, session: PaperSession) -> None:
    """The backtest's run folder, from what the session saw and did."""
    runlog = session.runlog
    trades, orders, equity = runlog.trades_frame(), runlog.orders_frame(), runlog.equity_frame()
    bars = {name: bars_frame(feed) for name, feed in session.feeds.items()}
    live = [f.live_since for f in session.feeds.values() if getattr(f, "live_since", None) is not None]
    live_since = pd.Timestamp(max(live)) if live else None
    if live_since is not None and len(equity):
        # The backfill's replayed history is indicator warm-up, not part of the session: no figure counts it.
        times = pd.to_datetime(equity["time"], utc=True)
        since = live_since.tz_localize("UTC") if live_since.tzinfo is None else live_since.tz_convert("UTC")
        equity = equity[times >= since].reset_index(drop=True)
    # One shared account (the paper account): its figures, and per playbook the figures of its trades.
    metrics = paper_metrics(session.run_cfg, equity, trades, bars)   # feeds named as the session ran them
    if live_since is not None:
        metrics["live_since"] = str(live_since)
    result = BacktestResult(_finite(metrics), trades, orders, equity, bars)
    write_backtest_outputs(folder, cfg, result, [f"paper session via IB ({cfg.ib.host}:{cfg.ib.port})"])


def _write_what_it_has(folder: Path, cfg: RunConfig, session: PaperSession) -> None:
    try:
        write_outputs(folder, cfg, session)
    except Exception as exc:  # noqa: BLE001 - the session's own error is the one to report
        logger.opt(exception=exc).debug("the figures of the failed session could not be written")


def bars_frame(feed: IBFeed) -> pd.DataFrame:
    rows = feed.delivered
    index = pd.DatetimeIndex([b.time for b in rows], name="time")
    return pd.DataFrame({"open": [b.open for b in rows], "high": [b.high for b in rows],
                         "low": [b.low for b in rows], "close": [b.close for b in rows],
                         "volume": [b.volume for b in rows]}, index=index)


def _install_signal_handlers(session: PaperSession):
    if threading.current_thread() is not threading.main_thread():
        return None
    def handler(signum, frame):
        # The handler interrupts the main thread anywhere, also inside status.json's or the log's lock; stopping
        # from here would wait on that lock forever. A thread does the stop (as the --duration timer does).
        threading.Thread(target=session.stop, args=(f"{signal.Signals(signum).name} received",),
                         name="paper-stop", daemon=True).start()

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}


def _restore_signal_handlers(previous) -> None:
    for sig, handler in (previous or {}).items():
        signal.signal(sig, handler)


__all__ = ["run_paper", "PaperSession", "feed_symbols", "FlowbotError"]
