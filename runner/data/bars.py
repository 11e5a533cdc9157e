"""The one bar schema every part of flowbot uses, and its validation.

A bar table is a ``pandas.DataFrame`` with

* a tz-aware ``DatetimeIndex`` named ``time`` in America/New_York, strictly
  increasing; daily bars are stamped at the session date (00:00), intraday
  bars at their start (as IB stamps them);
* float columns ``open``, ``high``, ``low``, ``close``, ``volume`` and, when
  the source has one, ``adj_close`` (a total-return close).

``validate_bars`` refuses anything else with a :class:`DataError` that names the
source, the row and the value. It repairs nothing.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from runner.errors import DataError

NEW_YORK = "America/New_York"
PRICE_COLUMNS = ("open", "high", "low", "close")
BAR_COLUMNS = (*PRICE_COLUMNS, "volume")
OPTIONAL_COLUMNS = ("adj_close",)

RowLabel = Callable[[int], str]

#: Above these a value is a unit or parsing mistake, not a market (and overflows the VWAP's sums).
MAX_PRICE = 1e9
MAX_VOLUME = 1e13
#: Below this a price is a unit mistake too (IB's smallest tick is 0.0001); sizes would overflow.
MIN_PRICE = 1e-4


def default_row_label(position: int) -> str:
    return f"row {position + 1}"


def validate_bars(bars: pd.DataFrame, source: str, row_label: RowLabel = default_row_label) -> pd.DataFrame:
    """Check a bar table against the schema; return it with float columns.

    ``source`` names the file (or dataset) in messages; ``row_label(i)`` turns a
    0-based position into what the user can find (a CSV line, a Parquet row).
    """
    if bars.empty:
        raise DataError(f"{source}: no bars (the file has no data rows)")
    if not isinstance(bars.index, pd.DatetimeIndex) or bars.index.tz is None:
        raise DataError(f"{source}: bar times must be a tz-aware DatetimeIndex (got {type(bars.index).__name__})")
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {', '.join(missing)}; expected {', '.join(BAR_COLUMNS)}")

    _check_time_order(bars.index, source, row_label)
    columns = [c for c in (*BAR_COLUMNS, *OPTIONAL_COLUMNS) if c in bars.columns]
    out = bars[columns].astype("float64")
    out.index = bars.index.tz_convert(NEW_YORK)
    out.index.name = "time"

    for column in columns:
        values = out[column].to_numpy()
        # Most files are clean: the column's least and greatest values inside the bounds say so in two
        # passes (a NaN makes both comparisons false); else the checks below find the row and the message.
        low, high = (MIN_PRICE, MAX_PRICE) if column != "volume" else (0.0, MAX_VOLUME)
        if len(values) and values.min() >= low and values.max() <= high:
            continue
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"{source}: {row_label(i)}: {column} is missing or not a number")
        if column == "volume":
            bad = values < 0
            what = "must be >= 0"
            absurd = values > MAX_VOLUME
        else:
            bad = values <= 0
            what = "must be a positive price"
            absurd = (values > MAX_PRICE) | ((values > 0) & (values < MIN_PRICE))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"{source}: {row_label(i)}: {column} {what} (got {values[i]:g})")
        if absurd.any():
            i = int(np.argmax(absurd))
            if column == "volume":
                bound = f"above {MAX_VOLUME:g}"
            else:
                bound = f"above {MAX_PRICE:g}" if values[i] > MAX_PRICE else f"below {MIN_PRICE:g}"
            raise DataError(f"{source}: {row_label(i)}: {column} {values[i]:g} is not a plausible "
                            f"{'volume' if column == 'volume' else 'price'} ({bound}); check the file's units")

    o, h, l, c = (out[name].to_numpy() for name in PRICE_COLUMNS)
    # A tolerance of a millionth absorbs rounding in vendors' files.
    tolerance = 1e-6 * np.maximum(h, 1.0)
    checks = (
        (l - h, "high is below low"),
        (np.maximum(o, c) - h, "high is below open or close"),
        (l - np.minimum(o, c), "low is above open or close"),
    )
    for excess, what in checks:
        bad = excess > tolerance
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"{source}: {row_label(i)}: {what} "
                f"(open {o[i]:g}, high {h[i]:g}, low {l[i]:g}, close {c[i]:g})"
            )
    _say_jumps(o, c, source, row_label)
    return out


#: A bar whose price is this many times (or this fraction of) the one before is a typo or a unit change.
JUMP_FACTOR = 5.0


def _say_jumps(o: np.ndarray, c: np.ndarray, source: str, row_label: RowLabel) -> None:
    """Warn (naming the row) of a price that jumps fivefold from one bar to the next: a misplaced decimal
    point, cents among dollars, an unadjusted split. Kept: real data can do it (a reverse split)."""
    if len(c) < 2:
        return
    ratio = np.maximum(o[1:], c[1:]) / c[:-1]
    drop = np.minimum(o[1:], c[1:]) / c[:-1]
    bad = (ratio > JUMP_FACTOR) | (drop < 1 / JUMP_FACTOR)
    if bad.any():
        from loguru import logger

        i = int(np.argmax(bad)) + 1
        logger.warning(f"{source}: {row_label(i)}: the price jumps from {c[i - 1]:g} to open {o[i]:g}, close "
                       f"{c[i]:g} ({int(bad.sum()):,} such jump(s) of over {JUMP_FACTOR:g}x); a misplaced decimal "
                       f"point, a change of units or an unadjusted split? Kept as given")

def _check_time_order(index: pd.DatetimeIndex, source: str, row_label: RowLabel) -> None:
    missing = np.asarray(index.isna())
    if missing.any():
        raise DataError(f"{source}: {row_label(int(np.argmax(missing)))}: the time is missing (NaT)")
    values = index.asi8
    if len(values) < 2:
        return
    step = np.diff(values)
    if (step == 0).any():
        i = int(np.argmax(step == 0)) + 1
        raise DataError(f"{source}: {row_label(i)}: duplicate timestamp {index[i].isoformat()}")
    if (step < 0).any():
        i = int(np.argmax(step < 0)) + 1
        raise DataError(
            f"{source}: {row_label(i)}: timestamps must increase; {index[i].isoformat()} "
            f"comes after {index[i - 1].isoformat()} (sort the file by time)"
        )


def is_daily(bars: pd.DataFrame) -> bool:
    """True if every bar is stamped at midnight (one bar per session)."""
    index = bars.index
    # Wall-clock nanoseconds of the day, one conversion (hour, minute and second each convert the
    # whole index): midnight to the second is the first second of the day. The first bar settles
    # most files, before the whole index is converted (an intraday file: 2 million times, each time asked).
    # In the index's own unit: a far-future date (refused later, with its row) has no nanoseconds.
    def seconds_of_day(times: pd.DatetimeIndex) -> tuple[np.ndarray, int]:
        local = times.tz_localize(None) if times.tz is not None else times
        second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[local.unit]
        return local.asi8 % (86_400 * second), second

    first, second = seconds_of_day(index[:1])
    if not first.max(initial=0) < second:
        return False
    of_day, second = seconds_of_day(index)
    return bool((of_day < second).all())


def clip_window(bars: pd.DataFrame, start, end, source: str) -> pd.DataFrame:
    """Bars with a session date inside [start, end]; refuse an empty result."""
    index = bars.index
    # Sorted New York times (DST moves the clock at 2 AM, never across midnight): the first and last dates
    # bound them all.
    if len(index) and str(index.tz) == NEW_YORK and index.is_monotonic_increasing:
        ends = index[[0, -1]].tz_localize(None).normalize()
        if (start is None or ends[0] >= pd.Timestamp(start)) and (end is None or ends[1] <= pd.Timestamp(end)):
            return bars   # the whole file in the window: no copy, and no date worked out per bar
    dates = index.tz_localize(None).normalize()
    mask = np.ones(len(bars), dtype=bool)
    if start is not None:
        mask &= dates >= pd.Timestamp(start)
    if end is not None:
        mask &= dates <= pd.Timestamp(end)
    clipped = bars if mask.all() else bars[mask]   # the whole file in the window: no copy of it
    if clipped.empty:
        first, last = bars.index[0].date(), bars.index[-1].date()
        raise DataError(
            f"{source}: no bars between {start or 'the start'} and {end or 'the end'} "
            f"(the data covers {first} to {last})"
        )
    return clipped


def extra_feed_name(symbol: str, role: str) -> str:
    """The name of a playbook's extra feed (e.g. ``SPY.bonds``) in the bars mapping and in Cerebro."""
    return f"{symbol}.{role}"
