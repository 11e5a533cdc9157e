"""``optimize.json``: what a sweep's run folder was started with, so that ``--resume`` can refuse a mismatch.

It holds the sweep file's path, the plan's fingerprint (sweep, base config,
folds) and a SHA-256 of every data file the base config reads: a resume whose
sweep, config or data changed (same years, other prices) is refused, since its
finished rows would not match the new runs.
"""
from __future__ import annotations

from pathlib import Path

from runner.data.checksum import file_sha256
from runner.errors import UserInputError
from runner.inputs import cut

STATE = "optimize.json"


def read_state(folder: Path) -> dict:
    """The state of an optimize run folder; UserInputError naming the problem if it is missing or damaged."""
    from runner.config_files import read_json_file

    path = Path(folder) / STATE
    where = f"--resume {cut(str(folder))}"
    try:
        if not Path(folder).is_dir():
            raise UserInputError(f"{where}: not a folder; expected the run folder of an interrupted sweep")
        if not path.exists():
            raise UserInputError(f"{where}: no {STATE} there; not a run folder of flowbot optimize")
    except OSError as exc:
        raise UserInputError(f"{where}: cannot read {STATE} ({exc.strerror or exc})") from None
    try:   # kind and size checked first: a FIFO or /dev/zero in its place must not hang the reader
        state = read_json_file(path, "sweep state", "start a new sweep without --resume")
    except UserInputError as exc:
        raise UserInputError(f"{where}: {exc}") from None
    if not isinstance(state, dict) or not isinstance(state.get("sweep"), str) \
            or not isinstance(state.get("fingerprint"), str):
        raise UserInputError(f"{where}: {STATE} is damaged (it lacks the sweep file or its fingerprint); start a "
                             f"new sweep without --resume")
    return state


def data_checksums(cfg) -> dict[str, str]:
    """Data file -> SHA-256 for every file (or cached dataset) the config's active playbooks read."""
    files: dict[str, str] = {}
    for strategy in cfg.active_strategies():
        for source in (strategy.data, *strategy.feeds.values()):
            path = _file_of(source, cfg, strategy)
            if path is not None and path.is_file():
                files[str(path)] = file_sha256(path)
    return files


def changed_data(recorded: dict | None, now: dict[str, str]) -> str | None:
    """The first data file whose checksum differs from the recorded one (or that came or went), else None."""
    if recorded is None:
        return None   # a folder from before checksums were recorded
    for name in sorted(set(recorded) | set(now)):
        if recorded.get(name) != now.get(name):
            return name
    return None


def _file_of(source, cfg, strategy) -> Path | None:
    if source.path is not None:
        return Path(source.path).expanduser()
    if source.cache is not None:
        from runner.data.cache import CachedSeries
        from runner.ib.bars import BarSize

        from strategies.registry import STRATEGIES

        default = "1 min" if getattr(STRATEGIES[strategy.name], "bar_minutes", 0) else "1 day"
        try:
            size = BarSize.parse(source.bar_size or default)
            return CachedSeries(Path(cfg.data.cache_folder), source.cache.upper(), size, source.what,
                                not source.all_hours).path
        except ValueError:
            return None
    return None   # an embedded sample: part of the installed version
