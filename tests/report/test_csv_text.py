"""run-folder CSVs: the fast writing of time-zone-aware times gives exactly pandas' text (seeded cases)."""
import numpy as np
import pandas as pd

from runner.report.run_folder import csv_text

ZONES = ["America/New_York", "UTC", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns"]


def test_the_text_is_pandas_text_over_seeded_frames():
    rng = np.random.default_rng(13)
    fast_used = 0
    for case in range(60):
        n = int(rng.integers(0, 400))
        seconds = rng.integers(-2_000_000_000, 2_500_000_000, n)
        if case % 5 == 0:
            seconds = seconds - seconds % 86400   # all at midnight UTC
        stamps = pd.to_datetime(seconds, unit="s", utc=True).tz_convert(ZONES[case % len(ZONES)])
        if case % 7 == 3 and n:
            stamps = stamps + pd.to_timedelta(rng.integers(0, 1000, n), unit="ms")   # fractions: pandas' way
        frame = pd.DataFrame({"strategy": rng.choice(["a", "b,c", "d"], n), "time": stamps,
                              "value": rng.normal(1e5, 1e3, n).round(2), "naive": stamps.tz_localize(None)})
        if case % 9 == 4 and n:
            frame.loc[0, "time"] = pd.NaT   # a missing time: pandas' way
        assert csv_text(frame) == frame.to_csv(index=False), case
        fast_used += int(n > 0 and case % 7 != 3 and case % 9 != 4)
    assert fast_used > 30


def test_an_empty_frame_with_an_aware_time_column_is_pandas_text():
    """A paper session stopped before its first live bar writes an empty equity.csv (it crashed, exit 1)."""
    for zone in ZONES[:2]:
        frame = pd.DataFrame({"time": pd.DatetimeIndex([], tz=zone), "value": pd.Series([], dtype="float64")})
        assert csv_text(frame) == frame.to_csv(index=False) == "time,value\n"


def test_the_default_runs_equity_file_is_pandas_text(default_run):
    _, result, folder = default_run
    assert (folder / "equity.csv").read_text(encoding="utf-8") == result.equity.to_csv(index=False)
    assert (folder / "trades.csv").read_text(encoding="utf-8") == result.trades.to_csv(index=False)
