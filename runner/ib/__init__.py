"""Paper trading through Interactive Brokers: the only package that imports ib_insync / ib_async.

Layers, bottom up, one job per module:

- ``compat``: which library, and the few places where the two differ;
- ``ib_config`` (the ``ib:`` and ``risk:`` config sections), ``safety`` (paper only);
- ``store``: one connection, its event loop in its own thread, every gateway
  report handed to backtrader as an ``events`` message through one queue;
- ``feed`` (live bars: ``backfill`` + ``bars`` aggregation over XNYS ``sessions``)
  and ``broker`` (``orders`` translation, status mapping, fills, risk limits);
- ``journal``: the SQLite record of every order, written before it is sent.

``runner.paper.session`` puts them together with the backtest's Cerebro.
"""
