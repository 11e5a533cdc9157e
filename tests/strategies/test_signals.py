"""The signals as pure functions: hand-computed values on generated bars, and no look-ahead."""
import datetime as dt
import math

import pandas as pd
import pytest

from signal_bars import bars_from, flat, last_sessions, perturb_after
from strategies.signals.drift import drift_points, drift_table, implied_flow
from strategies.signals.periods import period_to_date, value_on
from strategies.signals.rotation import relative_strength
from strategies.signals.volume import same_session_volume_ratio

D = dt.date


# -- period-to-date returns ----------------------------------------------------

TURN_OF_YEAR = {D(2018, 12, 27): 100.0, D(2018, 12, 28): 100.0, D(2018, 12, 31): 110.0,
                D(2019, 1, 2): 121.0, D(2019, 1, 3): 99.0}


def test_year_to_date_from_the_last_close_of_the_previous_year():
    ytd = period_to_date(bars_from(TURN_OF_YEAR), "year")
    assert value_on(ytd, D(2019, 1, 2)) == pytest.approx(0.10)     # 121 / 110 - 1
    assert value_on(ytd, D(2019, 1, 3)) == pytest.approx(-0.10)    # 99 / 110 - 1
    assert math.isnan(value_on(ytd, D(2018, 12, 31)))               # data starts mid-year: unknown


def test_data_starting_on_the_first_session_uses_its_open():
    bars = bars_from({D(2019, 1, 2): 105.0, D(2019, 1, 3): 110.0}, opens={D(2019, 1, 2): 100.0})
    ytd = period_to_date(bars, "year")
    assert value_on(ytd, D(2019, 1, 2)) == pytest.approx(0.05)
    assert value_on(ytd, D(2019, 1, 3)) == pytest.approx(0.10)


def test_quarter_and_month_to_date():
    closes = {D(2018, 3, 29): 100.0, D(2018, 4, 2): 102.0, D(2018, 4, 30): 104.0, D(2018, 5, 1): 103.0,
              D(2018, 5, 31): 110.0, D(2018, 6, 29): 99.0, D(2018, 7, 2): 100.0}
    bars = bars_from(closes)
    qtd, mtd = period_to_date(bars, "quarter"), period_to_date(bars, "month")
    assert value_on(qtd, D(2018, 5, 31)) == pytest.approx(0.10)    # Q2 base: Mar 29 close 100
    assert value_on(qtd, D(2018, 6, 29)) == pytest.approx(-0.01)
    assert value_on(qtd, D(2018, 7, 2)) == pytest.approx(100 / 99 - 1)   # Q3 base: Jun 29
    assert value_on(mtd, D(2018, 5, 31)) == pytest.approx(110 / 104 - 1)  # May base: Apr 30
    assert value_on(mtd, D(2018, 4, 30)) == pytest.approx(0.04)


def test_total_return_series_is_used_when_present():
    bars = bars_from(TURN_OF_YEAR)
    bars["adj_close"] = bars["close"]
    bars.loc[bars.index[-2], "adj_close"] = 132.0     # a distribution on Jan 2
    assert value_on(period_to_date(bars, "year"), D(2019, 1, 2)) == pytest.approx(0.20)


# -- drift and implied flow --------------------------------------------------

def test_drift_points_and_flow_by_hand():
    # 60/40 after equities +20%, bonds 0: w = 0.72 / (0.72 + 0.40) = 0.642857
    assert drift_points(0.6, 0.20, 0.0) == pytest.approx(4.285714, abs=1e-6)
    assert implied_flow(0.6, 0.20, 0.0) == pytest.approx(42.857142e9, rel=1e-6)   # per $1T
    # after equities -10%, bonds +5%: w = 0.54 / 0.96 = 0.5625: buy 37.5bn per $1T
    assert drift_points(0.6, -0.10, 0.05) == pytest.approx(-3.75)
    assert implied_flow(0.6, -0.10, 0.05, aum=2e12) == pytest.approx(-75e9)
    # a 70/30 mix after +20% / 0: 0.84 / 1.14
    assert drift_points(0.7, 0.20, 0.0) == pytest.approx((0.84 / 1.14 - 0.7) * 100)


def test_drift_table_joins_two_feeds_by_last_known_value():
    equity = bars_from(TURN_OF_YEAR)
    bonds = bars_from({D(2018, 12, 31): 50.0, D(2019, 1, 2): 50.0})   # no Jan 3 bar: carried
    table = drift_table(equity, bonds, "year", target=0.6)
    row = table.loc[pd.Timestamp("2019-01-03", tz="America/New_York")]
    assert row.equity_return == pytest.approx(-0.10) and row.bond_return == pytest.approx(0.0)
    assert row.drift_pts == pytest.approx(drift_points(0.6, -0.10, 0.0))
    assert row.flow == pytest.approx(implied_flow(0.6, -0.10, 0.0))


# -- volume spikes -----------------------------------------------------------

def month_end_volumes():
    ends = last_sessions(2018, range(1, 8))
    volumes = {ends[m]: v * 1e6 for m, v in zip(range(1, 7), (2, 4, 6, 8, 10, 12))}
    volumes[ends[7]] = 21e6
    return bars_from(flat(D(2018, 1, 2), D(2018, 7, 31)), volumes), ends


def test_month_end_volume_against_the_median_of_earlier_month_ends():
    bars, ends = month_end_volumes()
    table = same_session_volume_ratio(bars, lookback=6, period="month")
    july = table.loc[pd.Timestamp(ends[7], tz="America/New_York")]
    assert july.session_from_end == 1 and july.samples == 6
    assert july.ratio == pytest.approx(21 / 7)     # median of 2, 4, 6, 8, 10, 12 = 7
    second_last = table.loc[pd.Timestamp(D(2018, 7, 30), tz="America/New_York")]
    assert second_last.session_from_end == 2 and second_last.ratio == pytest.approx(1.0)


def test_quarter_end_volume_against_earlier_quarter_ends_only():
    bars, ends = month_end_volumes()
    table = same_session_volume_ratio(bars, lookback=2, period="quarter", min_samples=2)
    july = table.loc[pd.Timestamp(ends[7], tz="America/New_York")]
    assert july.ratio == pytest.approx(21 / 9)     # June 12 and March 6
    may = table.loc[pd.Timestamp(ends[5], tz="America/New_York")]
    assert math.isnan(may.ratio)                   # only March (Dec is before the data): too few samples


# -- rotation ----------------------------------------------------------------

def test_relative_strength_by_hand():
    days = [D(2018, 6, 25), D(2018, 6, 26), D(2018, 6, 27), D(2018, 6, 28)]
    long = bars_from(dict(zip(days, (100.0, 101.0, 102.0, 110.0))))
    short = bars_from(dict(zip(days, (100.0, 100.0, 103.0, 105.0))))
    rs = relative_strength(long, short, sessions=3)
    assert rs.iloc[-1] == pytest.approx((1.10 / 1.05 - 1) * 100)
    assert rs.iloc[:3].isna().all()
    with pytest.raises(ValueError):
        relative_strength(long, short, sessions=0)


# -- no look-ahead -----------------------------------------------------------

CUT = D(2018, 5, 15)


def _upto(series_or_frame):
    return series_or_frame[series_or_frame.index.tz_localize(None) <= pd.Timestamp(CUT)]


def _random_walk(seed: int) -> pd.DataFrame:
    import numpy as np

    days = list(flat(D(2017, 10, 2), D(2018, 7, 31)))
    rng = np.random.default_rng(seed)
    closes = 100 * np.cumprod(1 + rng.normal(0, 0.01, len(days)))
    volumes = rng.uniform(1e6, 3e6, len(days))
    return bars_from(dict(zip(days, closes)), dict(zip(days, volumes)))


@pytest.mark.parametrize("compute", [
    lambda a, b: period_to_date(a, "year"),
    lambda a, b: period_to_date(a, "quarter"),
    lambda a, b: period_to_date(a, "month"),
    lambda a, b: drift_table(a, b, "year"),
    lambda a, b: drift_table(a, b, "quarter"),
    lambda a, b: drift_table(a, b, "month", target=0.7),
    lambda a, b: same_session_volume_ratio(a, lookback=3, min_samples=1),
    lambda a, b: relative_strength(a, b, sessions=10),
], ids=["ytd", "qtd", "mtd", "drift-year", "drift-quarter", "drift-month", "volume", "rotation"])
def test_changing_future_bars_does_not_change_todays_value(compute):
    a, b = _random_walk(1), _random_walk(2)
    before = _upto(compute(a, b))
    after = _upto(compute(perturb_after(a, CUT), perturb_after(b, CUT, factor=0.6)))
    pd.testing.assert_frame_equal(pd.DataFrame(before), pd.DataFrame(after))
    # and the perturbation does reach the later values (the test can fail)
    assert not compute(a, b).equals(compute(perturb_after(a, CUT), perturb_after(b, CUT, factor=0.6)))
