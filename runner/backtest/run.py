"""A backtest run: load bars, build the Cerebro, run, and measure; optionally write the run folder."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from loguru import logger

from runner.config import RunConfig, resolved_yaml
from runner.backtest.daily_window_feed import run_windowed
from runner.backtest.engine import build_cerebro
from runner.backtest.intraday_feed import make_run_feeds
from runner.data.load import load_run_bars
from runner.report.metrics import baseline_summary, buy_and_hold, per_year, performance
from runner.backtest.recorder import RunLog
from runner.report.run_folder import write_csv, write_json, write_text


@dataclass
class BacktestResult:
    metrics: dict
    trades: pd.DataFrame
    orders: pd.DataFrame
    equity: pd.DataFrame
    bars: dict[str, pd.DataFrame] = field(repr=False, default_factory=dict)
    seconds: float = 0.0


def run_backtest(cfg: RunConfig, bars: dict[str, pd.DataFrame] | None = None, fast: bool = True) -> BacktestResult:
    """Run ``cfg`` on its data (or on ``bars``, feed name -> bars, when given) and measure it.

    ``fast``: playbooks that support it get only the bars they can act on, with
    precomputed indicator lines (same trades): intraday ones through
    ``intraday_feed``, daily ones through ``daily_window_feed``; False feeds every bar.
    """
    started = time.perf_counter()
    bars = bars if bars is not None else load_run_bars(cfg)
    windowed = run_windowed(cfg, bars, lambda rest: make_run_feeds(cfg, rest, fast=True)) if fast else None
    if windowed is not None:
        runlog, equity = windowed
    else:
        runlog = RunLog()
        cerebro = build_cerebro(cfg, make_run_feeds(cfg, bars, fast=fast), runlog=runlog)
        cerebro.run()
        equity = runlog.equity_frame()
    trades, orders = runlog.trades_frame(), runlog.orders_frame()
    years = per_year(cfg, equity, trades, bars)
    metrics = {
        "run": cfg.name,
        **performance(equity, trades),
        "buy_and_hold_pct": buy_and_hold(bars, cfg),
        "baseline": baseline_summary(cfg, years),
        "per_year": years,
        "data": {s.display_name: s.data.describe() for s in cfg.active_strategies()},
    }
    metrics = _finite(metrics)
    return BacktestResult(metrics, trades, orders, equity, bars, time.perf_counter() - started)


def write_backtest_outputs(folder: Path, cfg: RunConfig, result: BacktestResult, notes: list[str]) -> None:
    """Every file of the run folder except run.log (which the log sink writes)."""
    write_csv(folder / "trades.csv", result.trades)
    write_csv(folder / "orders.csv", result.orders)
    write_csv(folder / "equity.csv", result.equity)
    write_json(folder / "metrics.json", result.metrics)
    write_text(folder / "config.resolved.yaml", resolved_yaml(cfg))
    if cfg.output.report:
        from runner.report.html import render_report   # matplotlib loads only when a report is written
        from runner.report.png_workers import parallel_pngs

        with parallel_pngs() as resolved:   # charts drawn beside the page's building
            write_text(folder / "report.html", resolved(render_report(cfg, result, notes)))
    logger.debug(f"wrote the run folder {folder}")


def _finite(value):
    """JSON has no NaN or infinity: turn them into null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
