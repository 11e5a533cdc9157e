"""A view's session closes (the hold curve's points), found where the day changes, equal grouping by day."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from runner.data.intraday_sample import synthetic_minute_bars
from runner.report.formatting import naive_new_york
from runner.report.playbook_view import PlaybookView


def view_of(bars: pd.DataFrame) -> PlaybookView:
    return PlaybookView(name="fade", strategy="vwap_close_fade", symbol="SPY", label="USER_FILE", sources=[],
                        intraday=True, trades=pd.DataFrame(), bars=bars)


def grouped(bars: pd.DataFrame) -> pd.Series:
    """What ``closes`` computed before: the last close per New York day, by a groupby."""
    index = naive_new_york(bars.index)
    close = pd.Series(bars["close"].to_numpy(dtype="float64"), index=index)
    close = close.groupby(index.normalize()).last()
    close.index = close.index.normalize() + pd.Timedelta(hours=16)
    return close


@pytest.fixture(scope="module")
def minutes() -> pd.DataFrame:
    # Across both DST changes of 2019 and an early close (29 November), with gaps cut in below.
    bars = synthetic_minute_bars(dt.date(2019, 3, 1), dt.date(2019, 12, 6), seed=3)
    rng = np.random.default_rng(5)
    keep = rng.random(len(bars)) > 0.3
    keep[bars.index.normalize().tz_localize(None) == pd.Timestamp("2019-06-03")] = False   # a session missing
    return bars[keep]


@pytest.mark.parametrize("unit", ["ns", "us"])
def test_sorted_minutes_give_the_grouped_closes(minutes, unit):
    bars = minutes.set_axis(minutes.index.as_unit(unit))
    closes = view_of(bars).closes
    pd.testing.assert_series_equal(closes, grouped(bars), check_exact=True, check_freq=True)
    assert len(closes) == len(np.unique(naive_new_york(bars.index).normalize()))


def test_each_day_keeps_its_last_close_not_its_first(minutes):
    day = minutes[minutes.index.normalize() == minutes.index.normalize()[0]]
    assert view_of(day).closes.iloc[0] == day["close"].iloc[-1] != day["close"].iloc[0]


def test_missing_closes_and_unsorted_bars_are_grouped_as_before(minutes):
    gappy = minutes.copy()
    gappy.iloc[[10, 391, len(gappy) - 1], gappy.columns.get_loc("close")] = np.nan   # last() skips them
    pd.testing.assert_series_equal(view_of(gappy).closes, grouped(gappy), check_exact=True)
    shuffled = minutes.sample(frac=1.0, random_state=1)
    pd.testing.assert_series_equal(view_of(shuffled).closes, grouped(shuffled), check_exact=True)
    assert view_of(minutes.iloc[:0]).closes.empty


def test_the_closes_convert_only_the_days_last_bars_to_new_york_times(minutes, monkeypatch):
    from runner.report import playbook_view

    converted = []
    real = playbook_view.naive_new_york

    def counting(times):
        converted.append(len(times))
        return real(times)

    monkeypatch.setattr(playbook_view, "naive_new_york", counting)
    closes = view_of(minutes).closes
    assert converted == [len(closes)] and len(closes) < len(minutes) / 100   # the sessions, not the minutes
