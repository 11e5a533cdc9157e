"""Where the shipped config files are: ./config/ first, else the copy inside the installed package."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from loguru import logger


def default_config(filename: str) -> Path:
    """``config/<filename>`` in the current folder if present, else the packaged one."""
    local = Path("config") / filename
    if local.exists():
        return local
    packaged = resources.files("runner") / "shipped_config" / filename
    return Path(str(packaged))


def find_config(path: str | Path | None, default_name: str) -> Path:
    """``path`` as given (default: ``config/<default_name>``); a missing ``config/...`` path that
    names a shipped file (e.g. ``config/backtest.yaml`` outside the repository) is the shipped copy."""
    if path is None:
        return default_config(default_name)
    path = Path(path)
    if path.exists() or path.is_absolute() or not path.parts or path.parts[0] != "config":
        return path
    packaged = Path(str(resources.files("runner") / "shipped_config")).joinpath(*path.parts[1:])
    if packaged.is_file():
        logger.info(f"{path}: not in the current folder; using the shipped copy {packaged}")
        return packaged
    return path
