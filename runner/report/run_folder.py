"""The run folder: ``logs/<YYYYmmdd-HHMMSS>-<mode>-<name>/`` (or ``--out``), and writing its files.

Every file is written to a temporary name and renamed into place, so a crash
never leaves a half-written file, and a folder that already holds a run is
never overwritten.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from runner.errors import UserInputError

RUN_FILES = ("trades.csv", "orders.csv", "equity.csv", "metrics.json", "config.resolved.yaml", "report.html", "run.log")


def create_run_folder(base: Path, mode: str, name: str, out: Path | None = None) -> Path:
    """A fresh folder for a run. ``out`` must be new or empty."""
    if out is not None:
        folder = Path(out)
        if folder.exists() and not folder.is_dir():
            raise UserInputError(f"--out {folder}: exists and is not a folder")
        if folder.is_dir() and any(folder.iterdir()):
            raise UserInputError(f"--out {folder}: the folder is not empty; choose a new folder so that "
                                 f"no earlier results are overwritten")
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path(base) / f"{stamp}-{mode}-{name}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = Path(base) / f"{stamp}-{mode}-{name}-{suffix}"
    try:
        folder.mkdir(parents=True)
    except OSError as exc:
        raise UserInputError(f"cannot create the run folder {folder}: {exc.strerror}") from None
    return folder


def write_text(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    write_text(path, frame.to_csv(index=False))


def write_json(path: Path, data: dict) -> None:
    write_text(path, json.dumps(data, indent=2, default=str, allow_nan=False) + "\n")
