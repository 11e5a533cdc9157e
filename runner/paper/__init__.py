"""The paper wing: a paper-trading session through IB Gateway.

- ``session``: ``PaperSession`` / ``run_paper``: the same Cerebro as a backtest,
  with live feeds and the IB broker from ``runner.ib``.
"""
