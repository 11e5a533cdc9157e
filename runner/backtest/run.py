"""A backtest run: load bars, run each playbook on its own account, and measure; optionally write the run folder."""
from __future__ import annotations

import gc
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from loguru import logger

from runner.backtest.engine import build_cerebro
from runner.backtest.intraday_feed import make_run_feeds
from runner.backtest.recorder import RunLog
from runner.config import RunConfig, resolved_yaml
from runner.backtest.daily_window_feed import run_windowed
from runner.data.load import load_run_bars
from runner.report.playbook_figures import feeds_of, playbook_figures, run_metrics
from runner.report.provenance import BarsHashing, reproducibility
from runner.report.run_folder import write_csv, write_json, write_text


@dataclass
class BacktestResult:
    metrics: dict
    trades: pd.DataFrame
    orders: pd.DataFrame
    equity: pd.DataFrame
    bars: dict[str, pd.DataFrame] = field(repr=False, default_factory=dict)
    seconds: float = 0.0
    config_yaml: str | None = field(repr=False, default=None)   # resolved_yaml of the config that ran


def run_backtest(cfg: RunConfig, bars: dict[str, pd.DataFrame] | None = None, fast: bool = True,
                 on_playbook=None, config_yaml: str | None = None) -> BacktestResult:
    """Run ``cfg`` on its data (or on ``bars``, feed name -> bars, when given) and measure it.

    Each playbook runs in its own Cerebro on its own account of ``broker.cash``.
    ``fast``: playbooks that support it get only the bars they can act on, with
    precomputed indicator lines (same trades): intraday ones through
    ``intraday_feed``, daily ones through ``daily_window_feed``; False, or the
    config's ``engine.every_bar: true``, feeds every bar. ``on_playbook(strategy, trades, orders, bars)``, when
    given, is called as each playbook's run ends (its config, its trades and orders, the bars it read), before
    its metrics (the random-timing test among them) and the next playbook's run. ``config_yaml``: ``resolved_yaml(cfg)``
    when the caller has it already (it takes a tenth of a second; the run folder's config and the
    metrics' checksum are made from it).
    """
    from runner.report.summary import run_notes

    started = time.perf_counter()
    bars = bars if bars is not None else load_run_bars(cfg)
    fast = fast and not cfg.engine.every_bar
    trades, orders, equities, figures = [], [], [], {}
    hashing = BarsHashing(bars)   # the record's bar checksums, on another core under the engine
    hashing.start()
    try:
        for strategy in cfg.active_strategies():
            alone = cfg.model_copy(update={"strategies": [strategy]})
            mine = feeds_of(strategy, bars)
            runlog, equity = _run_one(alone, mine, fast)
            t, o = runlog.trades_frame(), runlog.orders_frame()
            if on_playbook is not None:   # first: its trade charts are drawn while the figures below are computed
                on_playbook(strategy, t, o, mine)
            figures[strategy.display_name] = playbook_figures(strategy, equity, t, mine)
            trades.append(t)
            orders.append(o)
            equities.append(equity.assign(strategy=strategy.display_name)[["strategy", *equity.columns]])
    finally:
        hashing.digests()   # joined whatever happens: no thread outlives the run (the report forks)
    trades_frame = _concat(trades, RunLog().trades_frame())
    orders_frame = _concat(orders, RunLog().orders_frame()).sort_values("time", kind="stable").reset_index(drop=True)
    equity = _concat(equities, RunLog().equity_frame().assign(strategy="")[["strategy", "time", "value", "cash"]])
    config_yaml = resolved_yaml(cfg) if config_yaml is None else config_yaml
    provenance = reproducibility(cfg, bars, "fast" if fast else "every_bar", config_yaml=config_yaml,
                                 bars_hashed=hashing)
    metrics = run_metrics(cfg, figures, provenance, run_notes(cfg))
    return BacktestResult(_finite(metrics), trades_frame, orders_frame, equity, bars, time.perf_counter() - started,
                          config_yaml)


def _run_one(cfg: RunConfig, bars: dict[str, pd.DataFrame], fast: bool) -> tuple[RunLog, pd.DataFrame]:
    """One playbook's run on its own account: (run log, equity)."""
    windowed = run_windowed(cfg, bars, lambda rest: make_run_feeds(cfg, rest, fast=True)) if fast else None
    if windowed is not None:
        return windowed
    runlog = RunLog()
    _run_cerebro(build_cerebro(cfg, make_run_feeds(cfg, bars, fast=fast), runlog=runlog), bars)
    return runlog, runlog.equity_frame()


def _concat(frames: list[pd.DataFrame], empty: pd.DataFrame) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty


def write_backtest_outputs(folder: Path, cfg: RunConfig, result: BacktestResult, notes: list[str],
                           charts_ahead: dict[str, str] | None = None) -> None:
    """Every file of the run folder except run.log (which the log sink writes). ``charts_ahead``: per
    playbook, its trade charts already handed to the figure process (``html.trade_charts_ahead``)."""
    if not cfg.output.report:
        _write_tables(folder, cfg, result)
        logger.debug(f"wrote the run folder {folder}")
        return
    from runner.report.html import render_report   # matplotlib loads only when a report is written
    from runner.report.png_workers import parallel_pngs

    # The run's objects (bars, backtrader's lines) are left out of the garbage collector's passes
    # while matplotlib makes and drops its many small ones; they are handed back afterwards, unless
    # objects were frozen before (the flowbot process's own, runner.cli_process: they stay so).
    frozen_before = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        with parallel_pngs() as resolved:   # charts drawn beside the page's building
            # The page first: its figures are handed out as it is built, and drawn (by the figure process
            # or forked children) while the tables are written here.
            page = render_report(cfg, result, notes, charts_ahead=charts_ahead)
            _write_tables(folder, cfg, result)
            write_text(folder / "report.html", resolved(page))
    finally:
        if not frozen_before:
            gc.unfreeze()
    logger.debug(f"wrote the run folder {folder}")


def _write_tables(folder: Path, cfg: RunConfig, result: BacktestResult) -> None:
    write_csv(folder / "trades.csv", result.trades)
    write_csv(folder / "orders.csv", result.orders)
    write_csv(folder / "equity.csv", result.equity)
    write_json(folder / "metrics.json", result.metrics)
    config_yaml = resolved_yaml(cfg) if result.config_yaml is None else result.config_yaml
    write_text(folder / "config.resolved.yaml", config_yaml)


def _run_cerebro(cerebro, bars: dict[str, pd.DataFrame]) -> None:
    """``cerebro.run()``; an indicator longer than the data (backtrader's IndexError in its line buffers) is
    the data's fault, not a bug: DataError naming the shortest table. load_run_bars checks the warm-ups it
    knows; this catches the ones it does not."""
    try:
        cerebro.run()
    except IndexError as exc:
        frames = exc.__traceback__
        while frames.tb_next is not None:
            frames = frames.tb_next
        if "backtrader" not in frames.tb_frame.f_code.co_filename or not bars:
            raise
        name, shortest = min(bars.items(), key=lambda item: len(item[1]))
        logger.opt(exception=exc).debug("backtrader ran out of bars")
        from runner.errors import DataError

        raise DataError(f"{name}: {len(shortest)} bar(s) in the run window are fewer than the playbooks' "
                        f"indicators need to warm up; widen the window (start/end) or give a longer file") from None


def _finite(value):
    """JSON has no NaN or infinity: turn them into null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
