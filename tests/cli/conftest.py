"""Shared fixtures of the CLI tests: one small backtest run folder, and a clean registry of playbooks."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fade_runs(tmp_path_factory):
    """Two December-fade backtests that differ in rally_pct, in one runs folder: (folder, first, second)."""
    import os

    from runner.cli import main

    runs = tmp_path_factory.mktemp("runs")
    previous = os.getcwd()
    os.chdir(ROOT)
    try:
        first, second = runs / "fade-a", runs / "fade-b"
        assert main(["backtest", "-q", "--strategy", "december_fade", "--out", str(first)]) == 0
        assert main(["backtest", "-q", "--strategy", "december_fade", "--set",
                     "strategies.december_fade.params.rally_pct=1.0", "--out", str(second)]) == 0
        os.utime(first / "metrics.json", (1_000_000_000, 1_000_000_000))   # first is the older run
    finally:
        os.chdir(previous)
    return runs, first, second


@pytest.fixture
def clean_registry():
    """Playbooks a test registers (and modules it imports from tmp folders) are gone afterwards."""
    from strategies.registry import STRATEGIES

    names, modules, path = dict(STRATEGIES), set(sys.modules), list(sys.path)
    yield
    STRATEGIES.clear()
    STRATEGIES.update(names)
    # Only the modules loaded from the test's own folders: a standard-library or installed module first
    # imported during the test (concurrent.futures.process by a sweep) must stay, or the next sweep
    # pickles its work items with a class that is no longer the one sys.modules names (PicklingError).
    kept = tuple(str(Path(p).resolve()) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, ROOT})
    for name in set(sys.modules) - modules:
        file = getattr(sys.modules[name], "__file__", None)
        if file and not str(Path(file).resolve()).startswith(kept):
            del sys.modules[name]
    sys.path[:] = path
