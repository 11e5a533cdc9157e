"""Seeded generation of real-world-shaped 1-minute data: missing minutes, missing last bars, truncated files."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from runner.data.intraday_sample import synthetic_minute_bars


def gappy_minute_bars(seed: int, weeks: int = 4, missing_share: float = 0.1, drop_last_share: float = 0.3,
                      truncate: bool = False, start: dt.date = dt.date(2018, 11, 19)) -> pd.DataFrame:
    """Synthetic minute bars with gaps: ``missing_share`` of the minutes dropped at random, the last
    bar (or the last few) dropped on ``drop_last_share`` of the sessions, optionally the file cut mid-session."""
    rng = np.random.default_rng(seed)
    bars = synthetic_minute_bars(start, start + dt.timedelta(weeks=weeks), seed=seed,
                                 eligible=lambda day: True, push_share_eligible=0.8, push_share_other=0.5)
    keep = rng.random(len(bars)) >= missing_share
    local = bars.index.tz_convert("America/New_York")
    days = local.normalize()
    last_of_day = np.r_[days[1:] != days[:-1], True]
    ends = np.flatnonzero(last_of_day)
    for end in ends[rng.random(len(ends)) < drop_last_share]:
        keep[end - int(rng.integers(0, 4)):end + 1] = False     # the last 1 to 4 minutes missing
    kept = bars[keep]
    if truncate:
        cut = int(rng.integers(len(kept) // 2, len(kept)))
        kept = kept.iloc[:cut]
    return kept
