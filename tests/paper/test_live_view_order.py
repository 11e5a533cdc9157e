"""status.json's last bar is written once every playbook has acted on the bar (runner/paper/monitor.py
``LiveView``): with two strategies, the monitor hears of a bar only after the second one's ``next``."""
import backtrader as bt
import pandas as pd

from runner.paper.monitor import LiveView


class _Monitor:
    def __init__(self, calls):
        self.calls = calls

    def on_bar(self, feed, strategy):
        self.calls.append(("bar", len(feed)))


class _Playbook(bt.Strategy):
    params = (("calls", None), ("name", ""))

    def next(self):
        self.p.calls.append((self.p.name, len(self.datas[0])))


def test_the_monitor_hears_of_a_bar_after_every_strategy_acted_on_it():
    index = pd.date_range("2024-01-02", periods=3, freq="D")
    frame = pd.DataFrame({"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0}, index=index)
    calls = []
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame), name="SPY")
    cerebro.addstrategy(_Playbook, calls=calls, name="first")
    cerebro.addstrategy(_Playbook, calls=calls, name="second")
    cerebro.addanalyzer(LiveView, monitor=_Monitor(calls))
    cerebro.run(runonce=False, preload=False)
    assert calls == [(who, n) for n in (1, 2, 3) for who in ("first", "second", "bar")], calls
