"""One sweep run, as a worker executes it: build the config, run the backtest, measure.

Workers are plain processes (a local pool) or Dask workers; both call
:func:`evaluate`. The payload describes the sweep (base config, folds); bars are
loaded once per worker process and per set of data sources, then reused for
every run that reads the same data. A run writes no files and no report.
"""
from __future__ import annotations

import copy
import json
import threading
import time
from typing import Any

import numpy as np
import pandas as pd
from loguru import logger

from runner.config import apply_override, validate_config
from runner.backtest.daily_window_feed import run_windowed
from runner.backtest.engine import build_cerebro
from runner.data.bars import is_daily
from runner.backtest.feeds import ArrayFeed, BulkPreloadFeed
from runner.backtest.intraday_feed import make_run_feeds
from runner.data.load import load_run_bars
from runner.optimize.folds import FoldSlicer, run_windows
from runner.report.metrics import performance, utc_times
from runner.backtest.recorder import RunLog

NEW_YORK = "America/New_York"

_lock = threading.Lock()
_bars_cache: dict[tuple[str, str], dict[str, pd.DataFrame]] = {}


def quiet_worker() -> None:
    """Initializer of a local pool worker: no console output, Ctrl-C left to the parent."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logger.remove()


def evaluate(payload: dict, run_id: int, values: dict[str, Any]) -> dict:
    """Run one point of the sweep; return its results.csv row (never raises for a bad run)."""
    started = time.perf_counter()
    row: dict[str, Any] = {"run": run_id, "status": "ok", "error": ""}
    row.update({payload["columns"][key]: value for key, value in values.items()})
    logger.disable("strategies")   # a sweep logs runs, not trades
    try:
        raw = copy.deepcopy(payload["base_raw"])
        for key, value in values.items():
            apply_override(raw, key, value, f"{payload['source']}: parameters.{key}")
        cfg = validate_config(raw, payload["source"])
        bars = worker_bars(payload["fingerprint"], cfg)
        equity, trades = run_once(cfg, bars)
        row.update(summarize(equity, trades, payload, run_windows(cfg, bars) if payload["folds"] else None))
    except Exception as exc:  # a run that fails is a result, not the end of the sweep
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
    row["seconds"] = round(time.perf_counter() - started, 4)
    return row


def worker_bars(fingerprint: str, cfg) -> dict[str, pd.DataFrame]:
    """The run's bars, loaded once per process for each distinct set of data sources and window."""
    key = (fingerprint, data_key(cfg))
    with _lock:
        bars = _bars_cache.get(key)
        if bars is None:
            if len(_bars_cache) > 16:   # swept data sources: keep memory bounded
                _bars_cache.clear()
            bars = _bars_cache[key] = load_run_bars(cfg)
    return bars


def remember_bars(fingerprint: str, cfg, bars: dict[str, pd.DataFrame]) -> None:
    """Keep the bars the sweep loaded for ``cfg`` as a worker would: local workers are forked after
    this and start with them, instead of each reading the data again."""
    with _lock:
        _bars_cache[(fingerprint, data_key(cfg))] = bars


def data_key(cfg) -> str:
    sources = [(s.symbol, s.data.model_dump(mode="json"), {r: f.model_dump(mode="json") for r, f in s.feeds.items()})
               for s in cfg.active_strategies()]
    return json.dumps([sources, str(cfg.start), str(cfg.end)], sort_keys=True, default=str)


def run_once(cfg, bars: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The backtest engine exactly as ``flowbot backtest`` runs it; returns (equity, trades).

    Daily playbooks get their window feeds, intraday ones the fast feed, as in
    ``run_backtest``; the window bars are built once per worker and reused.
    """
    windowed = run_windowed(cfg, bars, lambda rest: _run_feeds(cfg, rest))
    if windowed is not None:
        runlog, equity = windowed
        return equity, runlog.trades_frame()
    runlog = RunLog()
    build_cerebro(cfg, _run_feeds(cfg, bars), runlog=runlog).run()
    return runlog.equity_frame(), runlog.trades_frame()


def _run_feeds(cfg, bars: dict[str, pd.DataFrame]) -> dict:
    feeds = make_run_feeds(cfg, bars)   # as run_backtest builds them (fast intraday feeds included)
    for name, feed in feeds.items():
        if type(feed) is ArrayFeed:
            feeds[name] = _sweep_feed(bars[name], name)
    return feeds


class SweepFeed(BulkPreloadFeed):
    """The same bars as ArrayFeed, preloaded in one step per line (:class:`BulkPreloadFeed`).

    The per-bar ``tick_*`` copies the broker matches against are filled from
    plain lists instead of through the lines' accessors. Together this saves
    about a third of a daily run; results are identical to ``flowbot backtest``
    (checked in tests/optimize/test_optimize.py).
    """

    _TICKS = ("close", "low", "high", "open", "volume", "openinterest", "adj_close")

    def __init__(self, bars, **kwargs):
        super().__init__(bars, **kwargs)
        n = len(self._times)
        self._tick_values = [self._columns[a].tolist() if a in self._columns else [0.0] * n for a in self._TICKS]

    def _tick_nullify(self):
        self.tick_close = self.tick_low = self.tick_high = self.tick_open = None
        self.tick_volume = self.tick_openinterest = self.tick_adj_close = self.tick_last = None

    def _tick_fill(self, force=False):
        if force or self.tick_close is None:
            i = self.lines.close.idx
            close, low, high, open_, volume, interest, adj = self._tick_values
            self.tick_close = self.tick_last = close[i]
            self.tick_low, self.tick_high, self.tick_open = low[i], high[i], open_[i]
            self.tick_volume, self.tick_openinterest, self.tick_adj_close = volume[i], interest[i], adj[i]


def _sweep_feed(bars: pd.DataFrame, name: str) -> ArrayFeed:
    import backtrader as bt

    timeframe = bt.TimeFrame.Days if is_daily(bars) else bt.TimeFrame.Minutes
    return SweepFeed(bars, name=name, timeframe=timeframe, compression=1)


def summarize(equity: pd.DataFrame, trades: pd.DataFrame, payload: dict, windows: pd.DataFrame | None = None) -> dict:
    """Headline metrics, per-year portfolio returns, and each walk-forward window's metrics
    (``windows``: the playbook's windows, runner.optimize.folds.run_windows, when there are folds)."""
    out = {}
    metrics = performance(equity, trades)
    for name in payload["metrics"]:
        out[name] = _clean(metrics.get(name))
    if len(equity) < 2:
        return out
    times = pd.DatetimeIndex(utc_times(equity["time"])).tz_convert(NEW_YORK)
    values = equity["value"].to_numpy(dtype="float64")
    years = times.year.to_numpy()
    for year, ret in year_returns(values, years).items():
        out[f"year.{year}"] = ret
    if payload["folds"]:
        # Folds by the playbook's window years, as the backtest's per-year figures (runner/optimize/folds.py).
        slicer = FoldSlicer(equity, trades, windows if windows is not None else pd.DataFrame(
            columns=["strategy", "year", "first_session", "last_session"]))
        for fold in payload["folds"]:
            for part in ("train", "test"):
                window = slicer.metrics(*fold[part])
                for name in payload["fold_metrics"][part]:
                    out[f"wf.{fold['label']}.{part}.{name}"] = _clean(window.get(name))
    return out


def year_returns(values: np.ndarray, years: np.ndarray) -> dict[int, float]:
    """Portfolio return per calendar year, percent (as runner.report.metrics.per_year computes it)."""
    result = {}
    previous = values[0]
    for year in np.unique(years):
        last = values[np.flatnonzero(years == year)[-1]]
        result[int(year)] = round(float(last / previous - 1.0) * 100.0, 4)
        previous = last
    return result


def _clean(value):
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
