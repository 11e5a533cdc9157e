"""Finding and reading past run folders, for ``flowbot show`` and ``flowbot compare``.

A RUN argument is a run folder's path, its name under the runs folder
(``logs/`` by default), a part of the name that only one run has, or
``latest`` (``latest~1`` the one before, and so on).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from runner.errors import UserInputError

MARKERS = ("metrics.json", "optimize.json")


@dataclass
class PastRun:
    folder: Path
    kind: str                          # backtest | paper | optimize
    metrics: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)   # config.resolved.yaml as written (not re-validated)

    @property
    def name(self) -> str:
        return self.folder.name


def run_folders(base: Path) -> list[Path]:
    """The run folders under ``base``, oldest first (by when their results were written)."""
    if not base.is_dir():
        return []
    found = []
    for child in base.iterdir():
        marker = next((child / m for m in MARKERS if (child / m).is_file()), None)
        if marker is not None:
            found.append((marker.stat().st_mtime, child.name, child))
    return [path for _, _, path in sorted(found)]


def find_run(text: str, base: Path = Path("logs")) -> Path:
    path = Path(text).expanduser()
    if path.is_dir():
        if not any((path / m).is_file() for m in MARKERS):
            raise UserInputError(f"{path}: not a run folder of flowbot (no metrics.json or optimize.json)")
        return path
    folders = run_folders(base)
    latest = re.fullmatch(r"latest(?:~(\d+))?", text)
    if latest:
        back = int(latest.group(1) or 0)
        if back >= len(folders):
            raise UserInputError(f"{text}: there are {len(folders)} run folder(s) in {base}")
        return folders[-1 - back]
    if (base / text).is_dir():
        return find_run(str(base / text), base)
    matches = [f for f in folders if text in f.name]
    if len(matches) == 1:
        return matches[0]
    recent = ", ".join(f.name for f in folders[-5:]) or "none"
    if len(matches) > 1:
        raise UserInputError(f"{text}: {len(matches)} runs in {base} match ({', '.join(f.name for f in matches[:5])}"
                             f"{', ...' if len(matches) > 5 else ''}); give more of the name")
    raise UserInputError(f"{text}: no such run folder (a path, a name in {base}, part of one, or latest); "
                         f"the latest runs: {recent}")


def read_run(folder: Path) -> PastRun:
    """The run in ``folder``: its figures and config as written; UserInputError naming a damaged file."""
    from runner.config_files import read_json_file, read_yaml
    from runner.errors import ConfigError

    hint = "the run folder is damaged; run it again"
    if (folder / "optimize.json").is_file():
        return PastRun(folder, "optimize", read_json_file(folder / "optimize.json", "sweep state", hint))
    metrics = read_json_file(folder / "metrics.json", "metrics file", hint)
    config_file = folder / "config.resolved.yaml"
    config: dict = {}
    if config_file.is_file():
        try:
            config = read_yaml(config_file, "resolved config")[0]
        except ConfigError as exc:
            raise UserInputError(f"{exc}; {hint}") from None
    kind = metrics.get("mode", "backtest")
    return PastRun(folder, kind if kind in ("backtest", "paper") else "backtest", metrics, config)


def flat_config(raw: dict) -> dict[str, object]:
    """Dotted keys -> values; strategies keyed by label or name, as --set takes them."""
    out: dict[str, object] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and prefix == "strategies":
            for entry in value:
                walk(f"strategies.{entry.get('label') or entry.get('name')}", entry)
        else:
            out[prefix] = value

    walk("", raw)
    return out
