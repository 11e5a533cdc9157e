"""The one way a Cerebro is built, for backtests and paper trading alike.

Only the feeds and the broker differ between the modes: a backtest passes
historical feeds and gets backtrader's BackBroker with the configured
commission and slippage; paper trading passes live IB feeds and its broker.
"""
from __future__ import annotations

import backtrader as bt

from runner.backtest.broker import BacktestBroker, configure_backtest_broker
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
