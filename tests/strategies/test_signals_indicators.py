"""The signals as backtrader indicators: the same values as the pure functions, bar by bar, no look-ahead."""
import datetime as dt
import math

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from runner.backtest.feeds import ArrayFeed
from runner.data.sample import load_sample
from signal_bars import perturb_after
from strategies.signals.drift import align_last_known, drift_table
from strategies.signals.indicators import PeriodDrift, PeriodReturn, RelativeStrength, SameSessionVolume
from strategies.signals.periods import period_to_date
from strategies.signals.rotation import relative_strength
from strategies.signals.volume import same_session_volume_ratio

D = dt.date


class Recorder(bt.Strategy):
    def __init__(self):
        self.drift = PeriodDrift(self.datas[0], self.datas[1], period="quarter", target=0.6)
        self.drift_year = PeriodDrift(self.datas[0], self.datas[1], period="year", target=0.6)
        self.drift_month = PeriodDrift(self.datas[0], self.datas[1], period="month", target=0.7)
        self.month_to_date = PeriodReturn(self.datas[0], period="month")
        self.rs = RelativeStrength(self.datas[0], self.datas[1], sessions=10)
        self.volume = SameSessionVolume(self.datas[0], lookback=6, period="month", min_samples=3)
        self.rows = {}

    def prenext(self):
        self.next()

    def next(self):
        def value(line):
            return float(line[0]) if len(line) else math.nan

        self.rows[self.datas[0].datetime.date(0)] = (
            value(self.drift.drift), value(self.rs.rs), value(self.volume.ratio), value(self.drift_year.drift),
            value(self.drift_month.drift), value(self.month_to_date.ret))


def record(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(ArrayFeed(a), name="a")
    cerebro.adddata(ArrayFeed(b), name="b")
    cerebro.addstrategy(Recorder)
    strategy = cerebro.run()[0]
    return pd.DataFrame.from_dict(strategy.rows, orient="index", columns=["drift", "rs", "volume", "drift_year",
                                                                            "drift_month", "mtd"])


def sample_pair():
    equity = load_sample("sp500").loc["2016-01-01":"2018-12-31"]
    bonds = align_last_known(load_sample("aaa_bond_proxy"), equity.index)
    return equity, bonds


def test_indicators_match_the_pure_functions_on_the_sample():
    equity, bonds = sample_pair()
    recorded = record(equity, bonds)
    days = [ts.date() for ts in equity.index]
    expected_drift = drift_table(equity, bonds, "quarter", 0.6)["drift_pts"].to_numpy()
    expected_rs = relative_strength(equity, bonds, 10).to_numpy()
    expected_volume = same_session_volume_ratio(equity, lookback=6, period="month", min_samples=3)["ratio"].to_numpy()
    got = recorded.loc[days]
    np.testing.assert_allclose(got["drift"].to_numpy(), expected_drift, rtol=1e-9, equal_nan=True)
    # the indicator line starts after its warm-up; compare where both exist
    np.testing.assert_allclose(got["rs"].to_numpy()[10:], expected_rs[10:], rtol=1e-9)
    np.testing.assert_allclose(got["volume"].to_numpy(), expected_volume, rtol=1e-9, equal_nan=True)
    assert np.isfinite(expected_volume).sum() > 500   # the comparison is not all NaN
    for column, expected in (("drift_year", drift_table(equity, bonds, "year", 0.6)["drift_pts"]),
                             ("drift_month", drift_table(equity, bonds, "month", 0.7)["drift_pts"]),
                             ("mtd", period_to_date(equity, "month"))):
        np.testing.assert_allclose(got[column].to_numpy(), expected.to_numpy(), rtol=1e-9, equal_nan=True)
        assert np.isfinite(expected.to_numpy()).sum() > 500


def test_indicators_do_not_look_ahead():
    equity, bonds = sample_pair()
    cut = D(2017, 6, 15)
    before = record(equity, bonds)
    after = record(perturb_after(equity, cut), perturb_after(bonds, cut, factor=0.5))
    upto = [d for d in before.index if d <= cut]
    later = [d for d in before.index if d > cut]
    pd.testing.assert_frame_equal(before.loc[upto], after.loc[upto])
    assert not before.loc[later].equals(after.loc[later])
