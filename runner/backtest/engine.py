"""The one way a Cerebro is built, for backtests and paper trading alike.

Only the feeds and the broker differ between the modes: a backtest passes
historical feeds and gets backtrader's BackBroker with the configured
commission and slippage; paper trading passes live IB feeds and its broker.
"""
from __future__ import annotations

import collections

import backtrader as bt

from runner.backtest.commission import PerShareCommission
from runner.config import RunConfig
from runner.backtest.recorder import RunLog, RunRecorder
from runner.data.bars import extra_feed_name
from strategies.registry import STRATEGIES


def build_cerebro(cfg: RunConfig, feeds: dict[str, bt.feed.DataBase], broker: bt.BrokerBase | None = None,
                  runlog: RunLog | None = None) -> bt.Cerebro:
    """A Cerebro with ``feeds`` (name -> feed), the configured playbooks, and a recorder.

    Feed names: each strategy's ``symbol``, and ``<symbol>.<role>`` for its extra feeds.
    """
    cerebro = bt.Cerebro(stdstats=False, quicknotify=True, cheat_on_open=False)
    if broker is None:
        cerebro.setbroker(BacktestBroker())
    for name, feed in feeds.items():
        cerebro.adddata(feed, name=name)
    if broker is None:
        configure_backtest_broker(cerebro.broker, cfg)
    else:
        cerebro.setbroker(broker)
    for strategy in cfg.active_strategies():
        playbook = STRATEGIES[strategy.name]
        params = strategy.typed_params().model_dump()
        feed_names = {role: extra_feed_name(strategy.symbol, role) for role in strategy.feeds}
        cerebro.addstrategy(playbook, symbol=strategy.symbol, label=strategy.display_name,
                            feed_names=feed_names, **params)
    cerebro.addanalyzer(RunRecorder, runlog=runlog if runlog is not None else RunLog(), _name="recorder")
    return cerebro


class BacktestBroker(bt.brokers.BackBroker):
    """backtrader's broker with one correction to its cash check at submission.

    backtrader checks a bracket's exits as if each were a new trade on top of
    the entry (a short with a stop, a target and a market-on-close exit reads
    as buying three times its size) and rejects the bracket. The exits can only
    close what their entry opens, so, as at IB, only the entry is checked; the
    exits follow their entry's fate.
    """

    def check_submitted(self):
        children = [o for o in self.submitted if o.parent is not None and o.parent.ref != o.ref]
        if children:
            self.submitted = collections.deque(o for o in self.submitted if o not in children)
        super().check_submitted()
        for child in children:
            if child.parent.ref in self._pchildren and child.parent.alive():
                self.submit_accept(child)
            else:
                child.reject()
                self.notify(child)


def configure_backtest_broker(broker: bt.brokers.BackBroker, cfg: RunConfig) -> None:
    broker.setcash(cfg.broker.cash)
    commission = cfg.broker.commission
    broker.addcommissioninfo(PerShareCommission(per_share=commission.per_share, minimum=commission.minimum,
                                                maximum_pct=commission.maximum_pct))
    if cfg.broker.slippage_pct:
        # Slippage on opens and stops too; limits fill at their price or better.
        broker.set_slippage_perc(cfg.broker.slippage_pct / 100.0, slip_open=True, slip_limit=False,
                                 slip_match=True, slip_out=False)
    # Orders are checked against cash when submitted, as a broker would.
    broker.set_checksubmit(True)
