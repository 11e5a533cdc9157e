"""Read a Parquet bar file: the time as the index or as a column, numbers checked as the CSV reader checks them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from runner.data.files import NEW_YORK, _check_readable, _listed, _parse_numbers, _parse_times, localize, match_columns, validate_bars
from runner.errors import DataError


def read_parquet_bars(path: Path, *, columns: dict[str, str] | None = None, timezone: str = NEW_YORK) -> pd.DataFrame:
    """Read and validate a Parquet bar file (time as the index or as a column)."""
    source = str(path)
    _check_readable(path)
    try:
        import pyarrow.parquet as pq

        # One column at a time into pandas, each arrow column freed as it is converted, and the arrow
        # pool's free memory handed back: the table and its pandas copy are never held whole together.
        raw = pq.read_table(path).to_pandas(split_blocks=True, self_destruct=True)
        pa.default_memory_pool().release_unused()
    except Exception as exc:  # pyarrow raises many types for a file that is not Parquet
        raise DataError(f"{source}: not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    # The time as the index or as a column; the index is read where it is (no copy of the table).
    index_name = None
    if isinstance(raw.index, pd.DatetimeIndex):
        index_name = "time" if raw.index.name is None else raw.index.name
    names = ([str(index_name)] if index_name is not None else []) + [str(c) for c in raw.columns]
    mapping = match_columns(names, columns, source)

    def row(i: int) -> str:
        return f"row {i + 1}"

    def column_of(name: str):
        if index_name is not None and name == str(index_name):
            return pd.Series(raw.index, name=name)
        return raw[[c for c in raw.columns if str(c) == name][0]]

    times = column_of(mapping["time"])
    if pd.api.types.is_numeric_dtype(times) or pd.api.types.is_bool_dtype(times):
        raise DataError(f"{source}: column {mapping['time']!r} holds {times.dtype} values, not times (epoch "
                        f"numbers are not read as dates); expected timestamps")
    if not pd.api.types.is_datetime64_any_dtype(times):
        index = _parse_times(times.astype(str), None, timezone, source, row)
    else:
        index = localize(pd.DatetimeIndex(times), timezone, source, row)
    numbers = {}
    for ours in ("open", "high", "low", "close", "adj_close", "volume"):
        if ours in mapping:
            column = column_of(mapping[ours])
            if pd.api.types.is_bool_dtype(column) or not (pd.api.types.is_numeric_dtype(column)
                                                          or pd.api.types.is_object_dtype(column)
                                                          or pd.api.types.is_string_dtype(column)):
                raise DataError(f"{source}: column {mapping[ours]!r} ({ours}) holds {column.dtype} values; "
                                f"expected numbers")
            values = _parquet_numbers(column, ours, source, row)
            # Own, writable memory (a view of arrow's is read-only); the arrow column goes at once.
            numbers[ours] = values if values.flags.writeable and values.base is None else values.copy()
            del column, values
            if index_name is None or mapping[ours] != str(index_name):
                del raw[[c for c in raw.columns if str(c) == mapping[ours]][0]]
    del raw
    pa.default_memory_pool().release_unused()
    frame = pd.DataFrame(numbers, index=index, copy=False)
    if "volume" not in frame:
        raise DataError(f"{source}: missing column for volume; the file has {_listed(names)}")
    return validate_bars(frame, source, row)


def _parquet_numbers(column: pd.Series, ours: str, source: str, row) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype="float64", na_value=np.nan)
    flags = column.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)
    if flags.any():
        i = int(np.argmax(flags))
        raise DataError(f"{source}: {row(i)}: {ours} is {column.iloc[i]!r}; expected a number")
    return _parse_numbers(column.astype(str), ours, source, row)
