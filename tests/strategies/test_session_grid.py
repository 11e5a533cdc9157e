"""SessionGrid's session lengths and trigger windows made for all sessions at once, and kept for the same index.

Compared with the per-session lookups they replace (``session_close`` and ``moc_minutes_before_close`` day by
day) on bars across early closes, the DST changes and the venues' cutoff changes, with gaps.
"""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from runner.data.intraday_sample import synthetic_minute_bars
from strategies import market_calendar as cal
from strategies.vwap_close_fade import WINDOW_MINUTES, VwapCloseFadeParams, eligible_reasons
from strategies.vwap_fade_fast import OPEN_MINUTE, SessionGrid, trigger_window


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    # 2018-11 to 2019-05: Thanksgiving's and Christmas Eve's early closes, both DST changes, NYSE's cutoff
    # change on 2019-03-01 and NASDAQ's on 2019-04-15; some minutes and a whole session left out.
    full = synthetic_minute_bars(dt.date(2018, 11, 19), dt.date(2019, 5, 3), seed=2)
    drop = np.zeros(len(full), dtype=bool)
    drop[[5, 6, 700, 40_000]] = True
    drop |= full.index.normalize() == pd.Timestamp("2019-01-15", tz=cal.NEW_YORK)
    return full[~drop]


def per_session_lengths(grid: SessionGrid) -> np.ndarray:
    closes = [cal.session_close(d) for d in grid.days]
    return np.array([(c.hour * 60 + c.minute) - OPEN_MINUTE for c in closes], dtype=np.int64)


def per_session_window(grid: SessionGrid, venue: str) -> np.ndarray:
    first = np.empty(len(grid.days), dtype=np.int64)
    last = np.empty(len(grid.days), dtype=np.int64)
    for r, day in enumerate(grid.days):
        length = int(grid.length[r])
        first[r] = length - WINDOW_MINUTES
        last[r] = length - cal.moc_minutes_before_close(day, venue) - 2
    return (grid.col >= first[grid.row]) & (grid.col <= last[grid.row])


def test_lengths_days_and_windows_match_the_per_session_lookups(bars):
    grid = SessionGrid(bars.index)
    assert grid.days == [d.date() for d in pd.DatetimeIndex(sorted(set(bars.index.tz_localize(None).normalize())))]
    assert all(type(d) is dt.date for d in grid.days)
    assert (grid.length == per_session_lengths(grid)).all() and {210, 390} <= set(grid.length.tolist())
    for venue in ("NYSE", "NASDAQ"):
        window = trigger_window(grid, VwapCloseFadeParams(venue=venue))
        assert window.dtype == bool and (window == per_session_window(grid, venue)).all()
    assert (trigger_window(grid, VwapCloseFadeParams(venue="NYSE"))
            != trigger_window(grid, VwapCloseFadeParams(venue="NASDAQ"))).any()


def test_the_same_index_gets_the_same_grid_read_only(bars):
    grid = SessionGrid(bars.index)
    again = SessionGrid(bars.index)
    assert again.row is grid.row and again.days is grid.days
    with pytest.raises(ValueError):
        grid.session_end[0] = 5
    with pytest.raises(ValueError):
        trigger_window(grid, VwapCloseFadeParams())[0] = True
    copy = SessionGrid(pd.DatetimeIndex(bars.index.copy()))   # equal values, another index: laid out anew
    assert copy.row is not grid.row
    for name in ("row", "col", "session_start", "session_end", "length"):
        assert (getattr(copy, name) == getattr(grid, name)).all()
    assert copy.days == grid.days and copy.width == grid.width


def test_a_day_without_a_session_is_refused_as_before(bars):
    holiday = pd.DatetimeIndex([pd.Timestamp("2019-01-01 10:00", tz=cal.NEW_YORK)])
    with pytest.raises(ValueError, match="2019-01-01 is not an NYSE session"):
        SessionGrid(bars.index[:10].append(holiday))


@pytest.mark.parametrize("params", [{}, {"every_day": True}, {"month_end": False}, {"quad_witching": False},
                                    {"month_end_sessions": 1, "year_turn": False}])
def test_eligible_sessions_match_eligible_reasons(bars, params):
    grid = SessionGrid(bars.index)
    p = VwapCloseFadeParams(**params)
    mask = grid.eligible(p)
    assert mask.tolist() == [bool(eligible_reasons(d, p)) for d in grid.days]
    assert grid.eligible(VwapCloseFadeParams(**params)) is mask and not mask.flags.writeable
    if params:
        assert grid.eligible(VwapCloseFadeParams()).tolist() != mask.tolist()
