"""Apply the backtest command's selection options (--strategy, --data, --start, --end) to a config."""
from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path

from pydantic import ValidationError

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
            close = difflib.get_close_matches(unknown[0], list(known), n=1)
            raise ConfigError(f"--strategy {unknown[0]}: not in {path}"
                              + (f" (did you mean {close[0]!r}?)" if close else "") + "; valid names: "
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


def parse_columns(text: str | dict | None) -> dict[str, str] | None:
    """``time=Timestamp,close=Last`` (or a mapping) -> {ours: the file's}."""
    if text is None or isinstance(text, dict):
        return text
    mapping = {}
    for item in (part.strip() for part in text.split(",")):
        ours, sep, theirs = item.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise UserInputError(f"--columns {text}: expected ours=theirs pairs separated by commas, "
                                 f"e.g. time=Timestamp,close=Last (got {item!r})")
        mapping[ours.strip()] = theirs.strip()
    return mapping


def apply_data_format(cfg: RunConfig, date_format: str | None = None, delimiter: str | None = None,
                      columns: str | dict | None = None) -> None:
    """--date-format, --delimiter, --columns: set on the selected playbooks' data files, as in YAML."""
    changes = {"date_format": date_format, "columns": parse_columns(columns),
               "delimiter": {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)}
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return
    flags = ", ".join(f"--{k.replace('_', '-')}" for k in changes)
    files = [s for s in cfg.active_strategies() if s.data.path is not None]
    if not files:
        raise UserInputError(f"{flags}: apply to data files, but the selected playbooks read "
                             f"{', '.join(s.data.describe() for s in cfg.active_strategies())}; "
                             f"give the file with --data PATH")
    for strategy in files:
        try:
            strategy.data = DataSource.model_validate({**strategy.data.model_dump(), **changes})
        except ValidationError as exc:
            error = exc.errors()[0]
            key = next((str(p) for p in error["loc"] if str(p) in changes), "")
            raise UserInputError(f"--{key.replace('_', '-')} {changes.get(key)!r}: {error['msg']}") from None
