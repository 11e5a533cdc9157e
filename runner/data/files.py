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
import re
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from runner.data.bars import NEW_YORK, validate_bars
from runner.data.date_formats import day_month_order, is_epoch, parse_epoch, suggestion_text
from runner.errors import DataError
from runner.inputs import MAX_DATA_BYTES, check_input_file, data_setting, shown

# A number written with thousands separators: 1,229 or 1,229.23 (never 1229,23).
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
# The same with decimal commas (data.decimal: ','): 1.229 or 1.229,23 (never 99.27).
_GROUPED_DOTS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$")

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


def _listed(names: list, most: int = 12) -> str:
    """A file's column names for a message: each cut, at most ``most`` of them."""
    text = ", ".join(shown(str(n), 30) for n in names[:most])
    return f"[{text}{f', ... ({len(names)} columns)' if len(names) > most else ''}]"


def _unmangled(name, found) -> str:
    """pandas renames a repeated header ``Close`` to ``Close.1``: the name as the file has it (``found``: a set)."""
    base, dot, number = str(name).rpartition(".")
    return base if dot and number.isdigit() and base in found else str(name)


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
    names = set(found)
    squashed_as_written = [_squash(_unmangled(c, names)) for c in found]   # once: a file may have 50,000 columns
    mapping: dict[str, str] = {}
    for ours, aliases in COLUMN_ALIASES.items():
        if ours in explicit:
            theirs = explicit[ours]
            if theirs not in found:
                raise DataError(f"{source}: column {shown(theirs)} (mapped to {ours}) is not in the file; it has "
                               f"{_listed(found)}")
            mapping[ours] = theirs
            continue
        for alias in aliases:
            if alias in by_squashed:
                twins = [c for c, plain in zip(found, squashed_as_written) if plain == alias]
                if len(twins) > 1:   # which one is the price? Guessing would be a silent misread
                    written = {_unmangled(c, names) for c in twins[:2]}
                    what = (f"the column {shown(written.pop(), 30)} appears twice" if len(written) == 1 else
                            f"columns {' and '.join(shown(str(c), 30) for c in twins[:2])} both read as {ours}")
                    raise DataError(f"{source}: {what}; which one is {ours}? Remove the other, or name the right one "
                                    f"under data.columns.{ours}")
                mapping[ours] = by_squashed[alias]
                break
    missing = [c for c in REQUIRED if c not in mapping]
    if missing:
        raise DataError(
            f"{source}: missing column(s) for {', '.join(missing)}; the file has {_listed(found)}. "
            f"Expected e.g. Date,Open,High,Low,Close,Adj Close,Volume, or name them under data.columns"
        )
    return mapping


def read_csv_bars(path: Path, *, columns: dict[str, str] | None = None, date_format: str | None = None,
                  timezone: str = NEW_YORK, delimiter: str | None = None, decimal: str = ".") -> pd.DataFrame:
    """Read and validate a CSV bar file. Errors name the file and the line (header = line 1).

    ``decimal``: the decimal mark of the file's numbers. With ``"."`` (the default)
    a comma is read only as a thousands separator (``1,229.23``); ``1229,23`` is
    refused rather than read as 122923. With ``","``, ``1.229,23`` is 1229.23.

    A well-formed file (``.`` decimals) is read by pyarrow's CSV reader straight
    into numbers and times (see :mod:`runner.data.csv_fast`); anything it cannot
    take as it is (other date layouts, separators, empty or bad values) is read
    as text and parsed here, which names the line of the first bad value.
    """
    from runner.data.csv_fast import read_csv_columns

    source = str(path)

    def line(i: int) -> str:
        return f"line {i + 2}"

    _check_readable(path)   # kind and size first: a FIFO or /dev/zero must not reach any reader
    _check_separator(path, source, delimiter)
    if date_format is not None and not is_epoch(date_format):
        _check_date_format(date_format, source)   # pyarrow would quietly fall back to ISO dates
    if decimal == "." and delimiter in (None, ",") and not is_epoch(date_format) and Path(path).is_file():
        fast = read_csv_columns(Path(path), columns, date_format, source)
        if fast is not None:
            times, numbers = fast
            index = localize(pd.DatetimeIndex(times), timezone, source, line)
            return validate_bars(pd.DataFrame(numbers, index=index, copy=False), source, line)
    raw = _read_csv_text(path, delimiter)
    try:
        mapping = match_columns(list(raw.columns), columns, source)
    except DataError as exc:
        raise DataError(f"{exc}{_delimiter_hint(list(raw.columns), delimiter)}") from None

    times = _parse_times(raw[mapping["time"]], date_format, timezone, source, line)
    frame = pd.DataFrame(index=times)
    for ours in ("open", "high", "low", "close", "adj_close", "volume"):
        if ours in mapping:
            frame[ours] = _parse_numbers(raw[mapping[ours]], ours, source, line, decimal)
    if "volume" not in frame:
        raise DataError(f"{source}: missing column for volume; the file has {_listed(list(raw.columns))} "
                        f"(name it under data.columns.volume)")
    return validate_bars(frame, source, line)


def _delimiter_hint(found: list[str], delimiter: str | None) -> str:
    """One header cell holding ';' or tabs: the file uses another separator."""
    if len(found) != 1:
        return ""
    for sep, label in ((";", ";"), ("\t", "\\t"), ("|", "|")):
        if sep in found[0] and sep != delimiter:
            return f"; the header looks {label!r}-separated: use {data_setting('delimiter', label)}"
    return ""


#: A bar file has a handful of columns; pandas takes minutes to name 50,000 repeated ones.
MAX_COLUMNS = 1000

_SEPARATORS = {",": ",", ";": ";", "\t": "\\t", "|": "|"}


def _check_separator(path: Path, source: str, delimiter: str | None) -> None:
    """A header split by another separator than the one in use (',' unless --delimiter) is refused, naming it.

    Read as commas, a ';' or tab file is one column (or, with decimal commas, a
    row of odd fields): the message would be about columns, not the cause.
    """
    given = delimiter or ","
    opener = gzip.open if Path(path).name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            header = handle.readline(65_536).decode("utf-8", errors="replace")
            second = handle.readline(65_536).decode("utf-8", errors="replace")
    except (OSError, EOFError, zlib.error):
        return   # the reader says why the file cannot be read
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    if max(counts.values()) >= MAX_COLUMNS or (len(header) >= 65_536 and not header.endswith("\n")):
        raise DataError(f"{source}: line 1 (the header {shown(header.rstrip())}) has more than {MAX_COLUMNS:,} "
                        f"columns or 64 KB; a bar file has a handful (time, open, high, low, close, volume)")
    seen = max(counts, key=counts.get)
    if seen == given or counts[seen] <= counts.get(given, header.count(given)):
        return
    decimals = (" and decimal: ',' on the data source (its numbers have decimal commas)"
                if seen != "," and re.search(r"\d,\d", second) else "")
    label, used = _SEPARATORS[seen], _SEPARATORS.get(given, given)
    fix = f"use {data_setting('delimiter', label)}" if seen != "," else \
        "leave out the delimiter (--delimiter, or delimiter: in the data source)"
    raise DataError(f"{source}: line 1 (the header {shown(header.rstrip())}) is separated by '{label}', not "
                    f"'{used}': {fix}{decimals}")


def _read_csv_text(path: Path, delimiter: str | None = None) -> pd.DataFrame:
    source = str(path)
    _check_readable(path)
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(4096)
    except (OSError, EOFError, zlib.error) as exc:   # gzip.BadGzipFile is an OSError
        raise DataError(f"{source}: {_unreadable(path, exc)}") from None
    if b"\x00" in head:
        raise DataError(f"{source}: not a text CSV file (it looks binary)")
    try:
        # index_col=False: a first row with more fields than the header must not silently become
        # the index (pandas' default), shifting every column by one; pandas warns instead.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, index_col=False,
                               sep=delimiter or ",")
    except pd.errors.ParserWarning:
        raise DataError(f"{source}: {_first_long_row(path, opener, delimiter or ',')}") from None
    except pd.errors.ParserError as exc:
        if "fields in line" in str(exc):   # a later row with more fields than the header
            raise DataError(f"{source}: {_first_long_row(path, opener, delimiter or ',')}") from None
        raise DataError(f"{source}: malformed CSV: {exc}") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(f"{source}: {_unreadable(path, exc)}") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{source}: the file is empty; expected a header line and bars") from None
    except UnicodeDecodeError:
        raise DataError(f"{source}: {_first_bad_line(path, opener)}; expected a text CSV file") from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DataError(f"{source}: malformed CSV: {exc}") from None


def _unreadable(path: Path, exc: BaseException) -> str:
    if Path(path).name.endswith(".gz") and not isinstance(exc, (FileNotFoundError, PermissionError)):
        return f"not a readable gzip file ({type(exc).__name__}: {exc}); expected a gzip-compressed CSV"
    return f"cannot read the file ({exc})"


#: Compressed forms pandas and pyarrow would each open (or not) their own way: only gzip is read, so these are
#: refused by name rather than read by one reader and failing in the other with a library's error.
OTHER_COMPRESSION = (".zip", ".bz2", ".xz", ".lzma", ".zst", ".lz4", ".tar", ".tgz", ".7z", ".rar")


def _check_readable(path: Path) -> None:
    check_input_file(Path(path), "data file", MAX_DATA_BYTES, DataError)
    suffix = Path(path).suffix.lower()
    if suffix in OTHER_COMPRESSION:
        raise DataError(f"{path}: a {suffix} archive or compressed file; flowbot reads CSV (plain or .gz) and "
                        f"Parquet: extract the CSV (or gzip it) and give that file")


def _first_long_row(path: Path, opener, delimiter: str = ",") -> str:
    """Which row has more fields than the header (read only when pandas reported one)."""
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter=delimiter, skipinitialspace=True)
        header = next(rows, [])
        for number, row in enumerate(rows, start=2):
            if len(row) > len(header):
                return (f"line {number}: {len(row)} fields but the header has {len(header)} "
                        f"({shown(','.join(row))}); a decimal comma, or the delimiter inside a value?")
    return f"a row has more fields than the header's {len(header)}"


def _first_bad_line(path: Path, opener) -> str:
    """Where the first byte that is not UTF-8 is, by line (streamed: the file is not read whole)."""
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return f"line {number}: byte {raw[exc.start]:#04x} is not UTF-8 text"
    except (OSError, EOFError):
        pass
    return "not UTF-8 text"


def _parse_times(values: pd.Series, date_format: str | None, timezone: str, source: str, line) -> pd.DatetimeIndex:
    text = values.astype(str).str.strip()
    empty = (text == "").to_numpy()
    if empty.any():
        i = int(np.argmax(empty))
        raise DataError(f"{source}: {line(i)}: the date is empty")
    if date_format is not None and not is_epoch(date_format):
        _check_date_format(date_format, source)
    read_as = date_format if date_format is not None else _day_month_format(text, source, line)
    try:
        parsed = (parse_epoch(text, date_format) if is_epoch(date_format)
                  else pd.to_datetime(text, format=read_as, errors="coerce"))
    except (ValueError, TypeError):
        # Mixed offsets: read everything as UTC, then convert.
        parsed = pd.to_datetime(text, format=read_as, errors="coerce", utc=True)
    if parsed.dtype == object:
        parsed = pd.to_datetime(text, format=read_as, errors="coerce", utc=True)
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        expected = f"format {date_format!r}" if date_format else "a date like 2018-12-31 or 2018-12-31 15:59:00"
        raise DataError(f"{source}: {line(i)}: cannot read date {shown(text.iloc[i])} (expected {expected})"
                        + suggestion_text(text, date_format))
    if is_epoch(date_format) and len(parsed) and bool((parsed.dt.tz_convert("UTC").dt.normalize()
                                                        == parsed.dt.tz_convert("UTC")).all()):
        # Every time at 00:00 UTC: daily bars stamped with their date, not 19:00 of the day before in New York.
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    # A bare number is not a date (an epoch, a spreadsheet serial, 2018.5), except YYYYMMDD.
    digits = (text.str.fullmatch(r"[+-]?\d+(\.\d*)?") & ~text.str.fullmatch(r"\d{8}")).to_numpy()
    if date_format is None and digits.any():
        i = int(np.argmax(digits))
        raise DataError(f"{source}: {line(i)}: cannot read date {shown(text.iloc[i])} (a bare number: an epoch or a "
                        f"spreadsheet serial?); expected a date like 2018-12-31, or name the format in data.date_format"
                        + suggestion_text(text, date_format))
    return localize(pd.DatetimeIndex(parsed), timezone, source, line)


def _day_month_format(text: pd.Series, source: str, line) -> str | None:
    """The format of ``01/02/2016``-like dates (month first, as pandas reads them); refused when both orders
    read every date of the file (which one is meant cannot be told)."""
    found, ambiguous = day_month_order(text)
    if ambiguous:
        first = str(text.iloc[0]).strip()
        sep = next(ch for ch in first if ch in "/.-")
        year = "%Y" if len(first.split(sep)[2].split(" ")[0]) == 4 else "%y"
        day_first = f"%d{sep}%m{sep}{year}"
        raise DataError(f"{source}: {line(0)}: dates like {shown(text.iloc[0])} read as day{sep}month and as "
                        f"month{sep}day alike (no date in the file has a day above 12); say which: use "
                        f"{data_setting('date_format', day_first)}, or '%m{sep}%d{sep}{year}'")
    return found


def _check_date_format(date_format: str, source: str) -> None:
    """Refuse a ``data.date_format`` that is not a strptime format before pandas fails on it."""
    import datetime as dt
    import re

    try:
        dt.datetime.strptime("", date_format)
    except (ValueError, re.error) as exc:   # re.error: a code given twice ('%Y-%m-%Y')
        if isinstance(exc, ValueError) and "does not match format" in str(exc):
            return   # a valid format; the empty text just does not match it
        why = "a code appears twice" if isinstance(exc, re.error) else str(exc)
        raise DataError(f"{source}: data.date_format {shown(date_format)} is not a date format ({why}); "
                        f"expected strftime codes like %Y-%m-%d or %d/%m/%Y %H:%M") from None


def localize(index: pd.DatetimeIndex, timezone: str, source: str, line) -> pd.DatetimeIndex:
    """Naive times placed in ``timezone`` (aware ones converted), then New York; errors name the line.

    A local time that does not exist (the hour skipped when DST starts) is refused with
    its line; an ambiguous one (the hour repeated when it ends) is resolved by the
    order of the bars, else refused with its line.
    """
    try:
        if index.tz is not None:
            return index.tz_convert(NEW_YORK)
        try:
            placed = index.tz_localize(timezone, nonexistent="NaT", ambiguous="NaT")
        except Exception as exc:   # an unknown zone
            raise DataError(f"{source}: cannot place the times in time zone {timezone!r}: {exc}") from None
        missing = placed.isna()
        if missing.any():
            try:
                placed = index.tz_localize(timezone, nonexistent="raise", ambiguous="infer")
            except Exception:
                probe = index.tz_localize(timezone, nonexistent="NaT", ambiguous=np.zeros(len(index), dtype=bool))
                skipped = np.asarray(probe.isna())
                i = int(np.argmax(skipped)) if skipped.any() else int(np.argmax(np.asarray(missing)))
                why = ("does not exist there (the clocks skip that hour when daylight saving time starts)"
                       if skipped.any() else "happens twice there (daylight saving time ends) and the bars' order "
                                             "does not say which")
                raise DataError(f"{source}: {line(i)}: time {index[i]} in {timezone} {why}; give times with an "
                                f"offset or in UTC (data.timezone: UTC)") from None
        return placed.tz_convert(NEW_YORK)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{source}: cannot place the times in time zone {timezone!r}: {exc}") from None


def _refuse_first(wrong: np.ndarray, values: pd.Series, column: str, source: str, line, what: str) -> None:
    """DataError naming the first row ``wrong`` marks (its line, the column, the value), if any."""
    if wrong.any():
        i = int(np.argmax(wrong))
        raise DataError(f"{source}: {line(i)}: {column} {shown(values.iloc[i])} {what}")


def _parse_numbers(values: pd.Series, column: str, source: str, line, decimal: str = ".") -> np.ndarray:
    text = values.astype(str).str.strip()
    if decimal == ",":
        dots = text.str.contains(".", regex=False).to_numpy()
        if dots.any():   # 99.27 is not 9927: a '.' is a thousands separator only between groups of three
            _refuse_first(dots & ~text.str.fullmatch(_GROUPED_DOTS).to_numpy(), values, column, source, line,
                          "has a decimal point (or a misplaced thousands separator) but data.decimal is ','; "
                          "remove decimal: ',' if the file uses '.' decimals")
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        commas = text.str.contains(",", regex=False).to_numpy()
        if commas.any():
            _refuse_first(commas & ~text.str.fullmatch(_GROUPED).to_numpy(), values, column, source, line,
                          "has a decimal comma (or a misplaced thousands separator); flowbot reads '.' as the "
                          "decimal point: convert the file, or say data: {decimal: ','} if the file uses decimal "
                          "commas")
            text = text.str.replace(",", "", regex=False)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(numbers)
    if bad.any():
        i = int(np.argmax(bad))
        given = values.iloc[i]
        what = "is empty" if str(given).strip() == "" else f"is not a number (got {shown(given)})"
        raise DataError(f"{source}: {line(i)}: {column} {what}")
    return numbers


def write_parquet_bars(bars: pd.DataFrame, path: Path) -> None:
    """Write bars atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    bars.to_parquet(partial)
    partial.replace(path)
