"""exposure_pct: the share of regular-session time with a position open, whatever the times' resolution."""
import pandas as pd
import pytest

from runner.report.metrics import exposure_pct

SESSIONS = ["2019-01-07", "2019-01-08", "2019-01-09", "2019-01-10"]   # Monday to Thursday, full sessions


def session_times(unit: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([f"{d} 16:00" for d in SESSIONS]).tz_localize("America/New_York").as_unit(unit)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_two_of_four_sessions_held_is_half(unit):
    # In at Tuesday's open, out at Wednesday's close: 2 of the 4 sessions' 6.5 hours.
    trades = pd.DataFrame({"entry_time": ["2019-01-08T09:30:00-05:00"], "exit_time": ["2019-01-09T16:00:00-05:00"]})
    assert exposure_pct(session_times(unit), trades) == pytest.approx(50.0)


def test_half_a_session_and_none():
    trades = pd.DataFrame({"entry_time": ["2019-01-10T12:45:00-05:00"], "exit_time": ["2019-01-10T16:00:00-05:00"]})
    assert exposure_pct(session_times("us"), trades) == pytest.approx(12.5)   # half of 1 of 4 sessions
    assert exposure_pct(session_times("us"), trades.iloc[:0]) == 0.0
