"""Read bar files (CSV, Parquet) into the bar schema of ``runner.data.bars``.

Column names are matched case-insensitively against common spellings, so the
usual download layout ``Date,Open,High,Low,Close,Adj Close,Volume`` (and
``datetime``/``timestamp`` for intraday files) works without configuration;
anything else is named in ``columns``. Naive timestamps are read in
``timezone`` (default America/New_York); timestamps with an offset are
converted to it.
"""
from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from runner.data.bars import NEW_YORK, validate_bars
from runner.errors import DataError

# Our column -> spellings seen in the wild (compared lower-case, without spaces/underscores).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("date", "datetime", "time", "timestamp", "dt", "day"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c", "last"),
    "adj_close": ("adjclose", "adjustedclose", "adjclosing"),
    "volume": ("volume", "vol", "v"),
}
REQUIRED = ("time", "open", "high", "low", "close")


def _squash(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def match_columns(found: list[str], explicit: dict[str, str] | None, source: str) -> dict[str, str]:
    """Map our column names to the file's. ``explicit`` (ours -> theirs) wins over aliases."""
    explicit = explicit or {}
    unknown = set(explicit) - set(COLUMN_ALIASES)
    if unknown:
        raise DataError(
            f"{source}: columns mapping names unknown field(s) {sorted(unknown)}; "
            f"expected some of {sorted(COLUMN_ALIASES)}"
        )
    by_squashed = {_squash(c): c for c in found}
    mapping: dict[str, str] = {}
    for ours, aliases in COLUMN_ALIASES.items():
        if ours in explicit:
            theirs = explicit[ours]
            if theirs not in found:
                raise DataError(f"{source}: column {theirs!r} (mapped to {ours}) is not in the file; it has {found}")
            mapping[ours] = theirs
            continue
        for alias in aliases:
            if alias in by_squashed:
                mapping[ours] = by_squashed[alias]
                break
    missing = [c for c in REQUIRED if c not in mapping]
    if missing:
        raise DataError(
            f"{source}: missing column(s) for {', '.join(missing)}; the file has {found}. "
            f"Expected e.g. Date,Open,High,Low,Close,Adj Close,Volume, or name them under data.columns"
        )
    return mapping


def read_csv_bars(path: Path, *, columns: dict[str, str] | None = None, date_format: str | None = None,
                  timezone: str = NEW_YORK) -> pd.DataFrame:
    """Read and validate a CSV bar file. Errors name the file and the line (header = line 1).

    A well-formed file is read by pyarrow's CSV reader straight into numbers and
    times (see :mod:`runner.data.csv_fast`); anything it cannot take as it is
    (other date layouts, thousands separators, empty or bad values) is read
    as text and parsed here, which names the line of the first bad value.
    """
    from runner.data.csv_fast import read_csv_columns

    source = str(path)
    _check_readable(path)
    fast = read_csv_columns(path, columns, date_format, source)
    if fast is not None:
        times, numbers = fast
        index = _localize(pd.DatetimeIndex(times), timezone, source)
        frame = pd.DataFrame(numbers, index=index, copy=False)
        return validate_bars(frame, source, _line)
    raw = _read_csv_text(path)
    mapping = match_columns(list(raw.columns), columns, source)
    line = _line

    times = _parse_times(raw[mapping["time"]], date_format, timezone, source, line)
    frame = pd.DataFrame(index=times)
    for ours in ("open", "high", "low", "close", "adj_close", "volume"):
        if ours in mapping:
            frame[ours] = _parse_numbers(raw[mapping[ours]], ours, source, line)
    if "volume" not in frame:
        raise DataError(f"{source}: missing column for volume; the file has {list(raw.columns)} "
                        f"(name it under data.columns.volume)")
    return validate_bars(frame, source, line)


def _line(i: int) -> str:
    return f"line {i + 2}"


def _localize(index: pd.DatetimeIndex, timezone: str, source: str) -> pd.DatetimeIndex:
    """Naive times read in ``timezone``, times with an offset converted; America/New_York out."""
    try:
        index = index.tz_localize(timezone) if index.tz is None else index.tz_convert(NEW_YORK)
    except Exception as exc:  # nonexistent/ambiguous local times, unknown zone
        raise DataError(f"{source}: cannot place the times in time zone {timezone!r}: {exc}") from None
    return index.tz_convert(NEW_YORK)


def _read_csv_text(path: Path) -> pd.DataFrame:
    source = str(path)
    _check_readable(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise DataError(f"{source}: cannot read the file ({exc})") from None
    if b"\x00" in head:
        raise DataError(f"{source}: not a text CSV file (it looks binary)")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{source}: the file is empty; expected a header line and bars") from None
    except UnicodeDecodeError:
        raise DataError(f"{source}: not a text CSV file (it is not UTF-8 text)") from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DataError(f"{source}: malformed CSV: {exc}") from None


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: no such data file")
    if path.is_dir():
        raise DataError(f"{path}: is a folder; expected a data file")


def _parse_times(values: pd.Series, date_format: str | None, timezone: str, source: str, line) -> pd.DatetimeIndex:
    text = values.astype(str).str.strip()
    empty = (text == "").to_numpy()
    if empty.any():
        i = int(np.argmax(empty))
        raise DataError(f"{source}: {line(i)}: the date is empty")
    try:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    except (ValueError, TypeError):
        # Mixed offsets: read everything as UTC, then convert.
        parsed = pd.to_datetime(text, format=date_format, errors="coerce", utc=True)
    if parsed.dtype == object:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce", utc=True)
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        expected = f"format {date_format!r}" if date_format else "a date like 2018-12-31 or 2018-12-31 15:59:00"
        raise DataError(f"{source}: {line(i)}: cannot read date {text.iloc[i]!r} (expected {expected})")
    return _localize(pd.DatetimeIndex(parsed), timezone, source)


def _parse_numbers(values: pd.Series, column: str, source: str, line) -> np.ndarray:
    text = values.astype(str).str.strip().str.replace(",", "", regex=False)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(numbers)
    if bad.any():
        i = int(np.argmax(bad))
        given = values.iloc[i]
        what = "is empty" if str(given).strip() == "" else f"is not a number (got {given!r})"
        raise DataError(f"{source}: {line(i)}: {column} {what}")
    return numbers


def read_parquet_bars(path: Path, *, columns: dict[str, str] | None = None, timezone: str = NEW_YORK) -> pd.DataFrame:
    """Read and validate a Parquet bar file (time as the index or as a column)."""
    source = str(path)
    _check_readable(path)
    try:
        raw = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a file that is not Parquet
        raise DataError(f"{source}: not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    if isinstance(raw.index, pd.DatetimeIndex):
        raw = raw.reset_index(names="time" if raw.index.name is None else raw.index.name)
    mapping = match_columns([str(c) for c in raw.columns], columns, source)

    def row(i: int) -> str:
        return f"row {i + 1}"

    times = raw[mapping["time"]]
    if not pd.api.types.is_datetime64_any_dtype(times):
        index = _parse_times(times.astype(str), None, timezone, source, row)
    else:
        index = pd.DatetimeIndex(times)
        index = index.tz_localize(timezone) if index.tz is None else index
        index = index.tz_convert(NEW_YORK)
    frame = pd.DataFrame(index=index)
    for ours in ("open", "high", "low", "close", "adj_close", "volume"):
        if ours in mapping:
            frame[ours] = pd.to_numeric(raw[mapping[ours]], errors="coerce").to_numpy(dtype="float64")
    if "volume" not in frame:
        raise DataError(f"{source}: missing column for volume; the file has {list(raw.columns)}")
    return validate_bars(frame, source, row)


def write_parquet_bars(bars: pd.DataFrame, path: Path) -> None:
    """Write bars atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    bars.to_parquet(partial)
    partial.replace(path)
