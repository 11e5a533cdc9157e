"""The figures' cheaper parts give what the pandas calls they replace give, over seeded cases."""
from __future__ import annotations

import numpy as np
import pandas as pd

from runner.report.metrics import last_of_each_day, utc_times


def test_last_of_each_day_is_groupby_last_over_seeded_cases():
    rng = np.random.default_rng(11)
    for case in range(300):
        n = int(rng.integers(1, 400))
        start = pd.Timestamp("1965-01-01", tz="UTC") + pd.Timedelta(days=int(rng.integers(0, 20000)))
        steps = rng.choice([60, 3600, 6 * 3600, 86400, 3 * 86400], n).cumsum()
        times = pd.DatetimeIndex(start + pd.to_timedelta(steps, unit="s")).tz_convert("America/New_York")
        if case % 5 == 0:
            times = times[rng.permutation(n)]   # not in time order
        values = rng.normal(100_000, 500, n)
        if case % 7 == 0:
            values[rng.integers(0, n, max(1, n // 10))] = np.nan
        want = pd.Series(values, index=times).groupby(times.date).last().to_numpy()
        got = last_of_each_day(values, times)
        assert np.array_equal(got, want, equal_nan=True), case


def test_utc_times_as_to_datetime_on_run_log_times():
    rng = np.random.default_rng(2)
    for case in range(100):
        n = int(rng.integers(0, 50))
        stamps = pd.Timestamp("1999-01-04 09:31", tz="America/New_York") + pd.to_timedelta(
            np.sort(rng.integers(0, 10**6, n)), unit="min")
        if case % 4 == 1:
            stamps = stamps + pd.to_timedelta(rng.integers(0, 10**6, n), unit="us")
        column = pd.Series([t.isoformat() for t in stamps], dtype=str)
        want = pd.to_datetime(column, utc=True)
        got = utc_times(column)
        assert got.equals(want) and got.dtype == want.dtype, case
    already = pd.Series(pd.date_range("2019-01-02", periods=5, freq="D", tz="America/New_York"))
    assert utc_times(already).equals(pd.to_datetime(already, utc=True))
