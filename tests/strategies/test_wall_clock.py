"""New York wall-clock times of an index, worked out once: the intraday check and the session grid share them."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from runner.data.intraday import check_intraday
from runner.data.intraday_sample import synthetic_minute_bars
from strategies import wall_clock
from strategies.vwap_fade_fast import SessionGrid


@pytest.fixture
def bars() -> pd.DataFrame:
    # Both DST changes of 2019 and an early close (29 November); a fresh table (and index) per test.
    return synthetic_minute_bars(dt.date(2019, 3, 1), dt.date(2019, 12, 6), seed=4)


@pytest.mark.parametrize("unit", ["ns", "us"])
def test_the_wall_clock_is_the_pandas_conversion(bars, unit):
    index = bars.index.as_unit(unit).tz_convert("UTC")   # any zone: converted to New York
    expected = index.tz_convert("America/New_York").tz_localize(None).as_unit("ns").asi8
    got = wall_clock.new_york_ns(index)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.int64 and not got.flags.writeable


def test_the_same_index_gets_the_same_array_and_another_index_its_own(bars):
    first = wall_clock.new_york_ns(bars.index)
    assert wall_clock.new_york_ns(bars.index) is first
    copy = bars.index.copy()   # equal times, another object: worked out again
    again = wall_clock.new_york_ns(copy)
    assert again is not first
    np.testing.assert_array_equal(again, first)
    with pytest.raises(ValueError):
        first[0] = 0


def test_the_intraday_check_and_the_session_grid_convert_the_index_once(bars, monkeypatch):
    converted = []
    real = pd.DatetimeIndex.tz_convert

    def counting(self, tz):
        if self is bars.index:
            converted.append(tz)
        return real(self, tz)

    monkeypatch.setattr(pd.DatetimeIndex, "tz_convert", counting)
    checked = check_intraday(bars, "test.csv")
    assert checked is bars
    grid = SessionGrid(bars.index)
    assert converted == ["America/New_York"]
    assert len(grid.days) == len(np.unique(bars.index.tz_localize(None).normalize()))
