"""The backtest wing: from a resolved config and bars to a finished run.

- ``run``: ``run_backtest`` (one config, its bars, the run folder) and the
  outputs a run writes.
- ``engine``: ``build_cerebro``, shared by backtests and paper sessions.
- ``feeds`` / ``intraday_feed``: numpy-backed backtrader feeds; the intraday
  fast path feeds only the bars a playbook can act on.
- ``recorder``: orders, trades and equity as the engine produces them.
- ``commission``: IB-style per-share commission and slippage.
- ``selection``: which playbooks and data a ``flowbot backtest`` runs.

``from runner.backtest import run_backtest`` keeps working; the name is
resolved on first use so importing a sibling module stays cheap.
"""
_PUBLIC = {"run_backtest", "BacktestResult", "write_backtest_outputs"}


def __getattr__(name):
    if name in _PUBLIC:
        from runner.backtest import run
        return getattr(run, name)
    raise AttributeError(f"module 'runner.backtest' has no attribute {name!r}")
