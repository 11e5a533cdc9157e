"""check_intraday's days found from runs of sorted bars (no np.unique) and closes from the calendar table at once.

The messages and warnings must be those of the per-day lookup they replace (``session_close`` day by day):
checked here on bars outside hours (holiday, weekend, early close, before the open), gaps, missing sessions
and the DST changes, and ``_close_minutes`` against ``session_close`` for every day of many years.
"""
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from loguru import logger

from runner.data.intraday import _close_minutes, _days_of, check_intraday
from runner.data.intraday_sample import synthetic_minute_bars
from runner.errors import DataError
from strategies import market_calendar as cal


def per_day_close_minutes(days: np.ndarray) -> np.ndarray:
    """The lookup check_intraday made before: session_close of each day, -1 on a day NYSE did not trade."""
    out = np.full(len(days), -1, dtype=np.int64)
    for j, d in enumerate(pd.DatetimeIndex(days)):
        if cal.is_session(d.date()):
            c = cal.session_close(d.date())
            out[j] = c.hour * 60 + c.minute
    return out


def test_close_minutes_match_session_close_on_every_day():
    days = pd.date_range("1989-12-20", "2031-01-10", freq="D").as_unit("ns").asi8   # before, in and after the table
    got = _close_minutes(days)
    assert (got == per_day_close_minutes(days)).all()
    assert {780, 960, -1} <= set(got.tolist())   # early closes, regular ones, holidays and weekends


def test_days_of_sorted_and_unsorted_match_unique():
    day_ns = np.repeat(np.array([5, 7, 9, 12]) * 86_400_000_000_000, [3, 1, 4, 2])
    for values in (day_ns, day_ns[::-1].copy(), np.r_[day_ns[3:], day_ns[:3]]):
        days, first, counts, _ = _days_of(values)
        want = np.unique(values, return_index=True, return_counts=True)
        for a, b in zip((days, first, counts), want):
            assert (a == b).all()
    assert _days_of(day_ns)[3] and not _days_of(day_ns[::-1].copy())[3]


def outcome(bars: pd.DataFrame, **kw) -> tuple[str, list[str], int]:
    """(the refusal or "", the warnings, bars kept) of check_intraday."""
    warnings: list[str] = []
    sink = logger.add(lambda message: warnings.append(message.record["message"]), level="WARNING")
    try:
        kept = check_intraday(bars, "f.csv", lambda i: f"line {i + 2}", **kw)
        return "", warnings, len(kept)
    except DataError as exc:
        return str(exc), warnings, 0
    finally:
        logger.remove(sink)


def shifted(bars: pd.DataFrame, to: str) -> pd.DataFrame:
    """One bar moved to the New York time ``to``."""
    out = bars.iloc[:1].copy()
    out.index = pd.DatetimeIndex([pd.Timestamp(to, tz=cal.NEW_YORK)], name=bars.index.name)
    return out


@pytest.fixture(scope="module")
def weeks() -> pd.DataFrame:
    # Around the 2019 Thanksgiving early close and through the November DST change.
    return synthetic_minute_bars(dt.date(2019, 10, 28), dt.date(2019, 12, 3), seed=3)


CASES = {
    "holiday": "2019-11-28 10:00",        # Thanksgiving
    "weekend": "2019-11-30 10:00",
    "early close": "2019-11-29 13:00",
    "before the open": "2019-11-29 09:29",
    "at the close": "2019-11-26 16:00",
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("mode", ["refuse", "drop"])
def test_bars_outside_hours_give_the_same_message(weeks, case, mode):
    extra = shifted(weeks, CASES[case])
    bars = pd.concat([weeks, extra]).sort_index()
    message, warnings, kept = outcome(bars, outside_hours=mode)
    row = int(np.flatnonzero(bars.index == extra.index[0])[0])
    if mode == "refuse":
        assert message.startswith(f"f.csv: line {row + 2}: bar at {CASES[case]}:00 is outside regular hours")
        why = ("NYSE did not trade that day" if case in ("holiday", "weekend")
               else "regular hours are 09:30 to 13:00" if case in ("early close",) or "11-29" in CASES[case]
               else "regular hours are 09:30 to 16:00")
        assert why in message and "1 such bar(s)" in message
    else:
        assert not message and kept == len(weeks)
        assert f"dropped 1 bar(s) outside regular hours (first line {row + 2}: {CASES[case]}:00)" in warnings[0]


def test_gaps_and_missing_sessions_are_reported_as_before(weeks):
    days = weeks.index.normalize()
    gappy = weeks[(days != pd.Timestamp("2019-11-05", tz=cal.NEW_YORK))]   # a whole session absent
    gap = gappy.index[500]
    gappy = gappy.drop(gappy.index[[500, 501, 900]])                         # and three minutes
    message, warnings, kept = outcome(gappy)
    assert not message and kept == len(gappy)
    assert warnings == [f"f.csv: 3 missing minute(s) in 2 of {len(set(gappy.index.date))} sessions; first gap "
                        f"{gap.date()} {gap.strftime('%H:%M')}; 1 session(s) with no "
                        f"bars at all (VWAP uses the bars present)"]


def test_unsorted_bars_check_as_with_unique(weeks):
    """Bars out of order (validate_bars refuses them first; here the check alone): the days are looked up."""
    bars = pd.concat([weeks.iloc[400:], weeks.iloc[:400]])
    message, warnings, kept = outcome(bars)
    assert not message and kept == len(bars)


@pytest.mark.parametrize("seed", range(40))
def test_spacing_is_refused_exactly_when_the_median_step_is_over_a_minute(seed):
    from runner.data.intraday import _check_spacing

    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 12))
    steps = rng.choice([1, 2, 5], size=count, p=[0.5, 0.3, 0.2]) if seed % 3 else np.r_[np.ones(count), np.full(count, 2)]
    if seed % 5 == 0:
        steps = np.r_[steps, 0, -1]   # zero and backward steps count as at most a minute too
    minute = np.r_[0, np.cumsum(steps)].astype(np.int64)
    day_ns = np.zeros(len(minute), dtype=np.int64)
    local = pd.DatetimeIndex(minute * 60_000_000_000 + 1_546_000_000_000_000_000)
    refused = float(np.median(np.diff(minute))) > 1
    if refused:
        with pytest.raises(DataError, match=f"bars are {int(np.median(np.diff(minute)))} minutes apart"):
            _check_spacing(local, day_ns, minute, "f.csv", str)
    else:
        _check_spacing(local, day_ns, minute, "f.csv", str)
