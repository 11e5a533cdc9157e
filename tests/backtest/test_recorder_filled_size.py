"""orders.csv's filled_size on the rows that end an order: every one says how much of the order filled."""
from __future__ import annotations

import backtrader as bt
import pandas as pd

from runner.backtest.recorder import RunLog, RunRecorder


class _PartFillThenCancel(bt.Strategy):
    """Buys 6 at market (the broker fills 2 a bar), cancels the rest after the first 2, and rests a limit
    far under the market that is cancelled unfilled and another that expires unfilled."""

    def __init__(self):
        self.entry = self.untouched = None

    def next(self):
        if len(self) == 1:
            self.entry = self.buy(size=6, reason="entry")
            self.untouched = self.buy(size=3, exectype=bt.Order.Limit, price=1.0, reason="target")
            self.buy(size=4, exectype=bt.Order.Limit, price=1.0, valid=self.data.datetime.date(0), reason="stop")
        elif len(self) == 2:
            self.cancel(self.entry)
            self.cancel(self.untouched)


def _orders() -> pd.DataFrame:
    days = pd.bdate_range("2024-01-02", periods=6)
    frame = pd.DataFrame({"open": 100.0, "high": 101.0, "low": 99.0, "close": 100.0, "volume": 1_000}, index=days)
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame), name="SPY")
    cerebro.broker.set_filler(bt.broker.fillers.FixedSize(size=2))
    cerebro.addstrategy(_PartFillThenCancel)
    runlog = RunLog()
    cerebro.addanalyzer(RunRecorder, runlog=runlog)
    cerebro.run()
    return runlog.orders_frame()


def test_every_row_ending_an_order_carries_its_filled_size_zero_when_nothing_filled():
    orders = _orders()
    ends = orders[orders["status"].isin(["Canceled", "Expired", "Rejected", "Margin"])]
    got = sorted((r.reason, r.status, r.filled_size) for r in ends.itertuples())
    assert got == [("entry", "Canceled", 2.0), ("stop", "Expired", 0.0), ("target", "Canceled", 0.0)], orders
    # The fill rows still carry the shares of their own event.
    fills = orders[orders["status"].isin(["Partial", "Completed"])]
    assert list(fills["filled_size"]) == [2.0], orders
    # Rows that end nothing and fill nothing have none.
    assert orders[orders["status"].isin(["Submitted", "Accepted"])]["filled_size"].isna().all(), orders
