"""is_daily from one wall-clock conversion says what the hour, minute and second fields say."""
from __future__ import annotations

import numpy as np
import pandas as pd

from runner.data.bars import is_daily


def by_fields(bars: pd.DataFrame) -> bool:
    index = bars.index
    return bool(((index.hour == 0) & (index.minute == 0) & (index.second == 0)).all())


def test_equal_to_the_field_test_over_seeded_cases():
    rng = np.random.default_rng(0)
    for case in range(400):
        base = pd.Timestamp("1960-01-01") + pd.Timedelta(days=int(rng.integers(0, 30000)))
        kind = case % 4
        if kind == 0:
            index = pd.date_range(base, periods=int(rng.integers(0, 20)), freq="D")
        elif kind == 1:
            index = pd.date_range(base, periods=int(rng.integers(1, 20)), freq="min")
        elif kind == 2:   # one bar off midnight by a nanosecond up to a minute
            offset = rng.integers(0, 3) * rng.choice([1, 1000, 999_999_999, 1_000_000_000, 60_000_000_000])
            index = pd.date_range(base, periods=10, freq="D") + pd.to_timedelta(np.r_[np.zeros(9), offset], unit="ns")
        else:
            index = pd.date_range(base, periods=10, freq="D")
        zone = [None, "America/New_York", "UTC"][case % 3]
        if zone == "America/New_York":
            index = index.tz_localize(zone, nonexistent="shift_forward", ambiguous="NaT").dropna()
        elif zone:
            index = index.tz_localize(zone)
        bars = pd.DataFrame(index=index)
        assert is_daily(bars) == by_fields(bars), (case, index)


def test_far_future_dates_in_their_own_unit():
    index = pd.DatetimeIndex(["2300-01-04", "2999-01-05"]).as_unit("us").tz_localize("America/New_York")
    assert is_daily(pd.DataFrame(index=index)) and is_daily(pd.DataFrame(index=index)) == by_fields(pd.DataFrame(index=index))
    minutes = pd.DatetimeIndex(["2300-01-04 09:30"]).as_unit("s").tz_localize("UTC")
    assert not is_daily(pd.DataFrame(index=minutes))
