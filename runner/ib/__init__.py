"""Paper trading through Interactive Brokers: the only package that imports ib_insync / ib_async.

Layers, bottom up: ``compat`` (which library) -> ``store`` (one connection,
its event loop in its own thread, events handed to backtrader through a queue)
-> ``feed`` (live bars) and ``broker`` (orders), with ``journal`` (SQLite
record of every order) and pure helpers ``bars``, ``backfill``, ``orders``.
"""
