"""The heatmap's monthly returns: the one-pass month-end search gives what a pandas groupby on the year and
month gives, value for value, on accounts with gaps of months and years and unsorted rows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from runner.report.formatting import naive_new_york
from runner.report.report_tables import heatmap_table, monthly_returns


def groupby_monthly_returns(equity: pd.DataFrame) -> pd.DataFrame:
    """The reference: month-end and year-end values by a pandas groupby, in time order."""
    equity = equity.sort_values("time", kind="stable")
    values = pd.Series(equity["value"].to_numpy(dtype="float64"), index=naive_new_york(equity["time"]))
    month_end = values.groupby([values.index.year, values.index.month]).last()
    previous = month_end.shift(1)
    previous.iloc[0] = values.iloc[0]
    grid = ((month_end / previous - 1.0) * 100.0).unstack(level=1).reindex(columns=range(1, 13))
    year_end = values.groupby(values.index.year).last()
    year_start = year_end.shift(1)
    year_start.iloc[0] = values.iloc[0]
    grid["year"] = (year_end / year_start - 1.0) * 100.0
    return grid


def random_account(seed: int, rows: int, shuffled: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.integers(0, 300_000_000, rows))   # up to about 9.5 years: months and years missing
    times = pd.Timestamp("1999-03-05 15:59", tz="America/New_York") + pd.to_timedelta(seconds, unit="s")
    equity = pd.DataFrame({"time": times.tz_convert("UTC"),
                           "value": 100_000 * np.exp(np.cumsum(rng.normal(0, 0.01, rows)))})
    return equity.sample(frac=1.0, random_state=seed).reset_index(drop=True) if shuffled else equity


@pytest.mark.parametrize("seed,rows", [(1, 2), (2, 3), (3, 40), (4, 700), (5, 5000)])
def test_the_same_grid_as_a_groupby(seed, rows):
    equity = random_account(seed, rows)
    got, want = monthly_returns(equity), groupby_monthly_returns(equity)
    pd.testing.assert_frame_equal(got, want, check_names=False, check_index_type=False, check_column_type=False,
                                  rtol=0, atol=0)


def test_rows_out_of_time_order_are_read_in_time_order():
    equity = random_account(6, 900, shuffled=True)
    pd.testing.assert_frame_equal(monthly_returns(equity), groupby_monthly_returns(equity), check_names=False,
                                  check_index_type=False, check_column_type=False, rtol=0, atol=0)


def test_a_month_end_across_new_york_midnight_counts_in_new_york():
    # 2019-01-31 23:30 New York is February in UTC: the January value is the month's last.
    times = pd.to_datetime(["2019-01-02 16:00", "2019-01-31 23:30", "2019-02-28 16:00"]).tz_localize(
        "America/New_York").tz_convert("UTC")
    grid = monthly_returns(pd.DataFrame({"time": times, "value": [100.0, 110.0, 121.0]}))
    assert grid.loc[2019, 1] == pytest.approx(10.0)
    assert grid.loc[2019, 2] == pytest.approx(10.0)
    assert np.isnan(grid.loc[2019, 3])
    assert grid.loc[2019, "year"] == pytest.approx(21.0)
    html = heatmap_table(pd.DataFrame({"time": times, "value": [100.0, 110.0, 121.0]}))
    assert html.count("+10.00") == 2 and "+21.00" in html
