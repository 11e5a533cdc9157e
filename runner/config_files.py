"""Where the shipped config files are: ./config/ first, else the copy inside the installed package."""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def default_config(filename: str) -> Path:
    """``config/<filename>`` in the current folder if present, else the packaged one."""
    local = Path("config") / filename
    if local.exists():
        return local
    packaged = resources.files("runner") / "shipped_config" / filename
    return Path(str(packaged))
