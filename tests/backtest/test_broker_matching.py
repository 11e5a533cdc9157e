"""The backtest broker equals backtrader's BackBroker where no flowbot rule applies: a plain short held
for days gives the same value and cash bar by bar, with and without credit interest."""
import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from runner.backtest.broker import BacktestBroker
from runner.backtest.commission import PerShareCommission
from runner.backtest.feeds import make_feed


class ShortAndHold(bt.Strategy):
    """Sells short on the second bar, buys back on the eighth; records value and cash every bar."""

    def __init__(self):
        self.seen = []

    def next(self):
        if len(self) == 2:
            self.sell(size=100)
        elif len(self) == 8:
            self.buy(size=100)
        self.seen.append((self.broker.getvalue(), self.broker.getcash()))


def _bars() -> pd.DataFrame:
    days = pd.bdate_range("2024-03-01", periods=12, tz="America/New_York") + pd.Timedelta(hours=16)
    close = 100.0 + np.arange(12) * 0.5
    return pd.DataFrame({"open": close - 0.2, "high": close + 1.0, "low": close - 1.0, "close": close,
                         "volume": 1e6}, index=days.tz_convert("UTC"))


def _run(broker: bt.brokers.BackBroker, interest: float) -> list[tuple[float, float]]:
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.setbroker(broker)
    cerebro.adddata(make_feed(_bars(), "X"), name="X")
    broker.setcash(100_000.0)
    broker.addcommissioninfo(PerShareCommission(interest=interest))
    cerebro.addstrategy(ShortAndHold)
    return cerebro.run()[0].seen


@pytest.mark.parametrize("interest", [0.0, 0.25])
def test_value_and_cash_bar_by_bar_equal_backbrokers(interest):
    ours, theirs = _run(BacktestBroker(), interest), _run(bt.brokers.BackBroker(), interest)
    assert ours == theirs and len(ours) == 12


def test_interest_is_charged():
    without, with_interest = _run(BacktestBroker(), 0.0), _run(BacktestBroker(), 0.25)
    assert with_interest[-1][1] < without[-1][1]   # the short paid credit interest over the days held
