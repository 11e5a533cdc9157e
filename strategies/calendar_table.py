"""The NYSE session table shipped with flowbot: every XNYS session from 1990 and its close, as exchange_calendars
(the version pinned in pyproject.toml) says, in ``xnys_sessions.npz`` beside this file.

Building the table from the library (importing it and making its schedule) is about a second of every command's
start-up, and its answer changes only with the library's version. Shipping it means no command writes a cache
anywhere outside its own folders. :mod:`strategies.market_calendar` uses it when it was made by the installed
exchange_calendars and reaches far enough, and asks the library otherwise
(``tests/strategies/test_calendar_table_cache.py`` checks it equals the library's answer).

Regenerate after changing the pinned exchange_calendars: ``python -m strategies.calendar_table``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

SHIPPED = Path(__file__).with_name("xnys_sessions.npz")
START = "1990-01-01"
END = "2036-12-31"


def library_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("exchange_calendars")
    except PackageNotFoundError:
        return None


def build(start: str, end: str) -> tuple[np.ndarray, np.ndarray]:
    """(session days as datetime64[D], their closes as UTC nanoseconds) from exchange_calendars."""
    import exchange_calendars as xcals
    import pandas as pd

    schedule = xcals.get_calendar("XNYS", start=start, end=end).schedule
    days = schedule.index.to_numpy().astype("datetime64[D]")
    closes = pd.DatetimeIndex(schedule["close"]).tz_convert("UTC").as_unit("ns").asi8.astype(np.int64)
    return days, closes


def read(path: Path) -> dict | None:
    """The table in ``path`` (days, closes, library, start, end), or None if absent or damaged."""
    try:
        with np.load(path) as table:
            days, closes = table["days"], table["closes"]
            library, start, end = (str(table[k]) for k in ("library", "start", "end"))
    except (OSError, ValueError, KeyError):
        return None
    if days.dtype != "datetime64[D]" or closes.dtype != np.int64 or not len(days) == len(closes) > 0:
        return None
    return {"days": days, "closes": closes, "library": library, "start": start, "end": end}


def write(path: Path, start: str = START, end: str = END, table: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Write ``table`` (else one built from the installed library) to ``path`` whole (a new file, then renamed)."""
    days, closes = table if table is not None else build(start, end)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")
    np.savez_compressed(partial, days=days, closes=closes, library=np.str_(library_version() or ""),
                        start=np.str_(start), end=np.str_(end))
    os.replace(partial, path)


if __name__ == "__main__":
    write(SHIPPED)
    print(f"{SHIPPED}: XNYS sessions {START} to {END}, exchange_calendars {library_version()}")
