"""The run folder: ``logs/<YYYYmmdd-HHMMSS>-<mode>-<name>/`` (or ``--out``), and writing its files.

Every file is written to a temporary name and renamed into place, so a crash
never leaves a half-written file, and a folder that already holds a run is
never overwritten.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

from runner.errors import UserInputError
from runner.inputs import cut, safe_name

if TYPE_CHECKING:
    import pandas as pd

RUN_FILES = ("trades.csv", "orders.csv", "equity.csv", "metrics.json", "config.resolved.yaml", "report.html", "run.log",
             "status.json")   # status.json: a paper session's live view


def check_out_folder(out: Path | None) -> None:
    """Refuse an ``--out`` that exists as a file or holds anything (checked again when the folder is made;
    a command checks it first too, before it loads data or starts work)."""
    if out is None:
        return
    folder = Path(out)
    try:
        if folder.exists() and not folder.is_dir():
            raise UserInputError(f"--out {cut(str(folder))}: exists and is not a folder")
        if folder.is_dir() and any(folder.iterdir()):
            raise UserInputError(f"--out {cut(str(folder))}: the folder is not empty; choose a new folder so that "
                                 f"no earlier results are overwritten")
    except OSError as exc:
        raise UserInputError(f"--out {cut(str(folder))}: cannot use it ({exc.strerror or exc})") from None


def create_run_folder(base: Path, mode: str, name: str, out: Path | None = None) -> Path:
    """A fresh, writable folder for a run. ``out`` must be new or empty; ``name`` stays one path component."""
    if out is not None:
        folder = Path(out)
        check_out_folder(folder)
        _make(folder, f"--out {cut(str(folder))}", exist_ok=True)
        return folder
    safe_name(name, "run name")
    safe_name(mode, "run mode")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path(base) / f"{stamp}-{mode}-{name}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = Path(base) / f"{stamp}-{mode}-{name}-{suffix}"
    _make(folder, f"cannot create the run folder {folder}", exist_ok=False)
    return folder


def existing_folder(path: Path) -> Path:
    """The nearest of ``path`` and its parents that exists now (taken before a run folder is made)."""
    path = Path(path).absolute()
    for candidate in [path, *path.parents]:
        try:
            if candidate.exists():
                return candidate
        except OSError:   # a name too long, a loop: create_run_folder says what is wrong with it
            continue
    return Path(path.anchor)


def discard_run_folder(folder: Path, existed: Path) -> None:
    """A run that failed before its results were written leaves nothing half-written behind.

    The files a run writes go (only those), then each now-empty folder from the run folder up to, not
    including, ``existed`` (:func:`existing_folder` before the run): an empty ``--out`` folder the user made,
    and ``logs/`` when it was there, stay. The console message and, for a bug, the crash log say why.
    """
    folder = Path(folder).absolute()
    for name in (*RUN_FILES, *(f"{n}.partial" for n in RUN_FILES), ".flowbot-write-test"):
        try:
            (folder / name).unlink(missing_ok=True)
        except OSError:
            pass
    existed = Path(existed).absolute()
    made = folder
    while made != existed and existed in made.parents:
        try:
            made.rmdir()   # only when empty: anything else in it is not ours to delete
        except OSError:
            break
        made = made.parent


def _make(folder: Path, what: str, *, exist_ok: bool) -> None:
    """mkdir, and prove the folder takes files, with one message for every way it can fail."""
    def refuse(why: str):
        return UserInputError(f"{what}: {why}")

    existed = None
    try:
        blocker = next((p for p in [folder, *folder.parents] if p.exists()), None)
        if blocker is not None and blocker != folder and not blocker.is_dir():
            raise refuse(f"{blocker} is a file, not a folder")
        existed = existing_folder(folder)
        folder.mkdir(parents=True, exist_ok=exist_ok)
        probe = folder / ".flowbot-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        if existed is not None:   # the folders made for it go again
            discard_run_folder(folder, existed)
        raise refuse(f"cannot write there ({exc.strerror or exc})") from None


def write_text(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    write_text(path, csv_text(frame))


def csv_text(frame: pd.DataFrame) -> str:
    """``frame.to_csv(index=False)``, the same text, with its time-zone-aware time columns written faster:
    pandas formats each such stamp in Python (0.2 s for an equity.csv of 10,000 rows); here the wall
    clock times are formatted by numpy and the few distinct UTC offsets once each."""
    import pandas as pd   # here: the folder and text helpers serve commands that never write a table

    fast = {name: text for name in frame.columns
            if isinstance(frame[name].dtype, pd.DatetimeTZDtype) and (text := _aware_stamps(frame[name])) is not None}
    return (frame.assign(**fast) if fast else frame).to_csv(index=False)


def _aware_stamps(times: pd.Series):
    """``2024-03-08 16:00:00-05:00`` per stamp as pandas writes it, or None where it would write
    otherwise (missing times, fractions of a second: left to pandas)."""
    import numpy as np
    import pandas as pd

    if times.empty:
        return None   # nothing to speed up (and numpy's string functions refuse an empty array)
    utc = times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    wall = times.dt.tz_localize(None).to_numpy("datetime64[ns]")
    if np.isnat(utc).any() or (utc.astype("int64") % 1_000_000_000).any():
        return None
    offsets = (wall - utc).astype("timedelta64[s]").astype("int64")
    distinct, which = np.unique(offsets, return_inverse=True)
    if (distinct % 60).any():
        return None   # an offset in seconds: pandas' own text
    names = np.array([f"{'-' if o < 0 else '+'}{abs(o) // 3600:02d}:{abs(o) % 3600 // 60:02d}" for o in distinct])
    clock = np.char.replace(np.datetime_as_string(wall.astype("datetime64[s]"), unit="s"), "T", " ")
    return pd.Series(np.char.add(clock, names[which.reshape(-1)]), index=times.index, dtype=object)


def write_json(path: Path, data: dict) -> None:
    write_text(path, json.dumps(data, indent=2, default=str, allow_nan=False) + "\n")
