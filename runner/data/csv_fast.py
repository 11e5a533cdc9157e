"""Read a well-formed CSV bar file with pyarrow's CSV reader: numbers and times in one pass.

pyarrow parses the columns in C++ (multi-threaded) straight into float64 and
timestamps, without a Python string per cell, so a 2-million-row minute file
reads in a fraction of a second and a fraction of the memory. It accepts
only what it can read exactly: ISO dates and times (with or without an
offset), or ``date_format``; plain decimal numbers; no empty cells. For
anything else :func:`read_csv_columns` returns None and the caller reads the
file as text, which names the line of the first value it cannot read; so
messages for bad files are the same either way.
"""
from __future__ import annotations

import csv
import gzip
import zlib
import io
from pathlib import Path

import numpy as np

from runner.errors import DataError

NUMBER_COLUMNS = ("open", "high", "low", "close", "adj_close", "volume")


def read_csv_columns(path: Path, columns: dict[str, str] | None, date_format: str | None,
                     source: str) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """(times, our column -> float64 values) of a CSV bar file, or None if it needs the text reader.

    Times are naive ``datetime64[us]`` (the unit pandas gives dates read from text) values as written, or a UTC ``DatetimeIndex`` when the
    file gives offsets.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    from runner.data.files import match_columns

    header = _header(path)
    if header is None:
        return None
    try:
        mapping = match_columns(header, columns, source)
    except DataError:
        return None   # the text reader says what is wrong with the header
    if "volume" not in mapping or len(set(mapping.values())) != len(mapping):
        return None
    types = {mapping[ours]: pa.float64() for ours in NUMBER_COLUMNS if ours in mapping}
    if date_format:   # else pyarrow reads ISO dates as dates whatever the format says (2005-03-01 as 1 March
        types[mapping["time"]] = pa.timestamp("us")   # under '%Y-%d-%m'): only the format may read the column
    convert = pcsv.ConvertOptions(column_types=types, include_columns=list(mapping.values()),
                                  timestamp_parsers=[date_format] if date_format else None)
    # Streamed in blocks, each block's columns copied into the numpy arrays as it arrives and then dropped:
    # the whole-file reader held the text, the parsed blocks and the converted columns at once, and keeping
    # every block's arrow arrays until the end held them beside the numpy copies (the 2-million-row file's
    # read peaked ~280 MB above the process before it; now ~190 MB, with its 94 MB of bars).
    try:
        reader = pcsv.open_csv(path, convert_options=convert, read_options=pcsv.ReadOptions(block_size=BLOCK_BYTES))
        names = reader.schema.names
        kind = reader.schema.field(mapping["time"]).type
        if not (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
            return None
        utc = pa.types.is_timestamp(kind) and kind.tz is not None
        target = pa.timestamp("us", tz="UTC") if utc else pa.timestamp("us")
        ours_of = {theirs: ours for ours, theirs in mapping.items()}
        pool = pa.default_memory_pool()
        columns = _Columns({name: "datetime64[us]" if ours_of[name] == "time" else "float64" for name in names},
                           _rows_guess(path))
        for batch in reader:
            values = {}
            for name, column in zip(names, batch.columns):
                if column.null_count:
                    return None
                if ours_of[name] == "time":   # a safe cast: finer than microseconds is refused (text reader)
                    column = pc.cast(pc.cast(column, pa.timestamp("us")) if pa.types.is_date(kind) else column,
                                     target)
                values[name] = column.to_numpy(zero_copy_only=False)
            del batch, column
            columns.append(values)
            del values
            # The block's arrow memory back to the system now: the pool (mimalloc) keeps freed blocks,
            # and the reader parses ahead, so its pages would pile up beside the arrays being filled.
            pool.release_unused()
    except Exception:  # noqa: BLE001 - pyarrow raises many types; the text reader explains the file
        return None
    pa.default_memory_pool().release_unused()   # what is left of the blocks' memory back to the system
    if columns.rows == 0:
        return None
    times = columns.take(mapping["time"])
    numbers = {}
    for ours in NUMBER_COLUMNS:
        if ours in mapping:
            values = columns.take(mapping[ours])
            if not np.isfinite(values).all():
                return None   # inf, -inf: the text reader names the line
            numbers[ours] = values
    if utc:
        import pandas as pd

        times = pd.DatetimeIndex(times).tz_localize("UTC")
    return times, numbers


#: Bytes of text per block the streaming reader parses at once.
BLOCK_BYTES = 4 << 20


class _Columns:
    """Numpy arrays filled block by block. Made with room for a guess of the rows: pages never written
    are never resident, so room to spare costs nothing; past it an array grows (doubles, copied)."""

    def __init__(self, dtypes: dict[str, str], capacity: int):
        self.arrays = {name: np.empty(max(capacity, 1), dtype=dtype) for name, dtype in dtypes.items()}
        self.rows = 0

    def append(self, values: dict[str, np.ndarray]) -> None:
        count = len(next(iter(values.values()))) if values else 0
        end = self.rows + count
        for name, array in self.arrays.items():
            if end > len(array):
                grown = np.empty(max(end, 2 * len(array)), dtype=array.dtype)
                grown[:self.rows] = array[:self.rows]
                self.arrays[name] = array = grown
            array[self.rows:end] = values[name]
        self.rows = end

    def take(self, name: str) -> np.ndarray:
        """The column's ``rows`` values (a view: the room not written stays unused), handed over."""
        return self.arrays.pop(name)[:self.rows]


def _rows_guess(path: Path) -> int:
    """Rows a bar file of this size may hold: at least one per 32 bytes of text (a minute bar line is
    ~70), 4x more for gzip's compression."""
    size = path.stat().st_size
    return (size // 32) * (4 if path.name.endswith(".gz") else 1) + 1024


def _header(path: Path) -> list[str] | None:
    """The header's column names as pandas reads them (initial spaces skipped), or None."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(65536)
    except (OSError, EOFError, zlib.error):   # damaged gzip: the text reader says what is wrong
        return None
    if b"\x00" in head or b"\n" not in head:
        return None
    try:
        first = head.split(b"\n", 1)[0].decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        return None
    names = next(csv.reader(io.StringIO(first), skipinitialspace=True), None)
    if not names or any(name != name.strip() for name in names):
        return None
    return names
