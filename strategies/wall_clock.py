"""New York wall-clock times of a bar index, worked out once per index.

Turning 2 million aware times (20 years of minutes) into New York wall-clock
times looks up each one's UTC offset: about 0.08 s. The intraday check, the
fast feed's session grid and the report's session closes all need them for
the same index; :func:`new_york_ns` gives them the array it made for that
index instead of each making its own.
"""
from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

NEW_YORK = "America/New_York"

_last: tuple[weakref.ref, np.ndarray] | None = None


def new_york_ns(index: pd.DatetimeIndex) -> np.ndarray:
    """``index.tz_convert(NEW_YORK).tz_localize(None).as_unit("ns").asi8`` of a tz-aware index, read-only.

    The array of the index asked for last is kept (while that index lives) and given again for the
    same index object; read-only, so a caller cannot change what the next one gets.
    """
    global _last
    last = _last
    if last is not None and last[0]() is index:
        return last[1]
    stamps = index.tz_convert(NEW_YORK).tz_localize(None).as_unit("ns").asi8
    stamps.setflags(write=False)
    _last = (weakref.ref(index), stamps)
    return stamps
