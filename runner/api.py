"""A small Python API for notebooks: ``from runner import backtest``.

>>> from runner import backtest
>>> r = backtest("config/backtest.yaml", set={"strategies.december_fade.params.rally_pct": 2.0})
>>> r.figures("december_fade")["performance"]["sharpe"], len(r.trades)
>>> r.equity.pivot(index="time", columns="strategy", values="value").plot()

The same run as ``flowbot backtest`` (same config loading, validation and
selection), without the console summary; nothing is written unless ``out`` is
given (then the run folder is written as the CLI writes it).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["backtest", "BacktestRun"]


@dataclass
class BacktestRun:
    """A finished backtest: the tables as DataFrames, the figures as a dict."""

    trades: Any                    # pandas.DataFrame, the rows of trades.csv
    orders: Any                    # pandas.DataFrame, the rows of orders.csv
    equity: Any                    # pandas.DataFrame: strategy, time, value, cash (each playbook's account)
    metrics: dict                  # metrics.json: playbooks.<name> (performance, sample, luck, ...), combined
    config: Any = field(repr=False, default=None)   # the validated runner.config.RunConfig
    folder: Path | None = None     # the run folder when ``out`` was given

    def figures(self, playbook: str | None = None) -> dict:
        """metrics.json's ``playbooks.<playbook>`` (performance, against_windows, sample, luck, per_year, ...);
        without a name, the run's only playbook."""
        playbooks = self.metrics.get("playbooks") or {}
        if playbook is None:
            if len(playbooks) != 1:
                raise KeyError(f"this run has {len(playbooks)} playbooks ({', '.join(playbooks)}); name one")
            return next(iter(playbooks.values()))
        if playbook not in playbooks:
            raise KeyError(f"no playbook {playbook!r} in this run; it has {', '.join(playbooks) or 'none'}")
        return playbooks[playbook]

    def __repr__(self) -> str:
        parts = []
        for name, f in (self.metrics.get("playbooks") or {}).items():
            perf = f.get("performance") or {}
            parts.append(f"{name} [{f.get('data_label')}]: {perf.get('trades')} trades, return "
                         f"{perf.get('total_return_pct')}%, sharpe {perf.get('sharpe')}")
        return f"BacktestRun({self.metrics.get('run')}: {'; '.join(parts) or 'no playbooks'})"


def backtest(config: str | Path | None = None, *, set: dict[str, Any] | None = None,   # noqa: A002 (as --set)
             strategy: str | list[str] | None = None, data: str | Path | None = None,
             start: str | dt.date | None = None, end: str | dt.date | None = None,
             date_format: str | None = None, delimiter: str | None = None, columns: dict | str | None = None,
             out: str | Path | None = None, log_level: str | None = "WARNING") -> BacktestRun:
    """Run a backtest as ``flowbot backtest`` does and return its trades, orders, equity and metrics.

    ``config``: a run config (default: config/backtest.yaml, else the shipped copy);
    ``set``: overrides by dotted key, e.g. ``{"broker.cash": 50_000}``;
    ``strategy``: run only these playbooks of the config; ``data``: a bar file for them;
    ``start``/``end``: the window; ``date_format``/``delimiter``/``columns``: how to read ``data``
    (as --date-format, --delimiter, --columns); ``out``: write the run folder there;
    ``log_level``: the console (stderr) log level, WARNING by default; None leaves logging as it is.
    Bad input raises :class:`runner.errors.UserInputError` with the CLI's message.
    """
    from runner.backtest.run import run_backtest, write_backtest_outputs
    from runner.backtest.selection import apply_data_format, select_for_backtest
    from runner.config_files import find_config
    from runner.data.load import load_run_bars
    from runner.report.run_folder import create_run_folder
    from runner.report.summary import run_notes

    if log_level is not None:
        from runner.log_setup import configure_console

        configure_console(log_level)
    path = find_config(config, "backtest.yaml")
    overrides = [f"{key}={_yaml_value(value)}" for key, value in (set or {}).items()]
    strategies = [strategy] if isinstance(strategy, str) else list(strategy or [])
    cfg = select_for_backtest(path, overrides, strategies, Path(data) if data is not None else None,
                              _as_date(start), _as_date(end))
    apply_data_format(cfg, date_format, delimiter, columns)
    bars = load_run_bars(cfg)
    result = run_backtest(cfg, bars)
    folder = None
    if out is not None:
        folder = create_run_folder(cfg.output.folder, "backtest", cfg.name, Path(out))
        write_backtest_outputs(folder, cfg, result, run_notes(cfg))
    return BacktestRun(result.trades, result.orders, result.equity, result.metrics, cfg, folder)


def _yaml_value(value: Any) -> str:
    """A value as --set reads it (YAML); JSON is YAML, dates and paths as text."""
    return json.dumps(value, default=str)


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
