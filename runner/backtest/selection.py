"""Apply the backtest command's selection options (--strategy, --data, --start, --end) to a config."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from runner.config import DataSource, RunConfig, load_config
from runner.errors import ConfigError, UserInputError
from runner.inputs import MAX_DATA_BYTES, check_input_file


def select_for_backtest(path: Path, overrides: list[str], strategies: list[str], data: Path | None,
                        start: dt.date | None, end: dt.date | None) -> RunConfig:
    cfg = load_config(path, overrides)
    if strategies:
        known = {s.display_name: s for s in cfg.strategies} | {s.name: s for s in cfg.strategies}
        unknown = [name for name in strategies if name not in known]
        if unknown:
            raise ConfigError(f"--strategy {unknown[0]}: not in {path}; it has "
                              f"{', '.join(s.display_name for s in cfg.strategies)}")
        chosen = {id(known[name]) for name in strategies}
        for strategy in cfg.strategies:
            strategy.enabled = id(strategy) in chosen
    if not cfg.active_strategies():
        raise ConfigError(f"{path}: every strategy is disabled; enable one or pick it with --strategy")
    if data is not None:
        check_input_file(data, "data file", MAX_DATA_BYTES, UserInputError)   # a folder, a FIFO, too long a name
        for strategy in cfg.active_strategies():
            strategy.data = DataSource(path=data)
    if start is not None:
        cfg.start = start
    if end is not None:
        cfg.end = end
    if cfg.start and cfg.end and cfg.start > cfg.end:
        raise UserInputError(f"the window start {cfg.start} is after its end {cfg.end} (--start/--end or the config)")
    return cfg
