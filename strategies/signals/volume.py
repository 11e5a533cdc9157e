"""Month-end / quarter-end volume spikes: volume against the same session of earlier months.

Sessions are counted from the month end (1 = the month's last session, 2 = the
one before, ...) on the NYSE calendar, so the last session of June is compared
with the last sessions of earlier months (``period: month``) or of earlier
quarter-end months (``period: quarter``). No news filter: a spike is a spike.
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from strategies.market_calendar import sessions_from_end_of_month
from strategies.signals.periods import bar_dates

SpikePeriod = Literal["month", "quarter"]


def _month_number(year: int, month: int) -> int:
    return year * 12 + month - 1


def reference_months(year: int, month: int, lookback: int, period: SpikePeriod) -> list[int]:
    """The ``lookback`` earlier months (as month numbers) a month is compared with."""
    step_ok = (lambda m: True) if period == "month" else (lambda m: m % 12 % 3 == 2)   # Mar, Jun, Sep, Dec
    months, m = [], _month_number(year, month) - 1
    while len(months) < lookback:
        if step_ok(m):
            months.append(m)
        m -= 1
    return months


def same_session_volume_ratio(bars: pd.DataFrame, lookback: int = 6, period: SpikePeriod = "month",
                              min_samples: int = 3) -> pd.DataFrame:
    """Per bar: its volume over the median volume on the same session from the month end of the
    ``lookback`` earlier (quarter-end) months; columns ``session_from_end``, ``median``,
    ``samples`` and ``ratio`` (NaN with fewer than ``min_samples`` earlier sessions)."""
    dates = bar_dates(bars.index)
    volumes = bars["volume"].to_numpy(dtype=float)
    seen: dict[tuple[int, int], float] = {}
    rows = []
    for day, volume in zip(dates, volumes):
        k = sessions_from_end_of_month(day)
        history = [seen[(m, k)] for m in reference_months(day.year, day.month, lookback, period)
                   if (m, k) in seen] if k else []
        median = float(np.median(history)) if history else math.nan
        ratio = volume / median if len(history) >= min_samples and median > 0 else math.nan
        rows.append((k, median, len(history), ratio))
        if k:
            seen[(_month_number(day.year, day.month), k)] = volume
    return pd.DataFrame(rows, columns=["session_from_end", "median", "samples", "ratio"], index=bars.index)
