"""flowbot runner: everything around the strategies (CLI, config, data, engine, reports, IB).

``from runner import backtest`` is the notebook API (see runner/api.py): the
``runner.backtest`` package is callable.
"""
__version__ = "0.1.0"


def __getattr__(name):
    if name == "backtest":   # the package, callable as runner.api.backtest (see runner/backtest/__init__.py)
        import importlib

        return importlib.import_module("runner.backtest")
    raise AttributeError(f"module 'runner' has no attribute {name!r}")
