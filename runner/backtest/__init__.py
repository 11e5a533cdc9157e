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

This package is also the notebook API's ``backtest`` function: importing a
submodule binds ``runner.backtest`` to this package, so rather than a function
of that name in ``runner/__init__.py`` (which the package would shadow), the
package itself is callable: ``from runner import backtest; backtest(...)``
calls :func:`runner.api.backtest`, whichever was imported first.
"""
import sys
import types

_PUBLIC = {"run_backtest", "BacktestResult", "write_backtest_outputs"}


def __getattr__(name):
    if name in _PUBLIC:
        from runner.backtest import run
        return getattr(run, name)
    raise AttributeError(f"module 'runner.backtest' has no attribute {name!r}")


class _CallablePackage(types.ModuleType):
    """The package module, callable as :func:`runner.api.backtest`."""

    def __call__(self, *args, **kwargs):
        from runner.api import backtest

        return backtest(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
