"""One default backtest (the three playbooks on the embedded samples) shared by the report tests."""
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from runner.backtest.run import run_backtest, write_backtest_outputs
from runner.config import load_config
from runner.report.summary import run_notes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """(cfg, result, folder) of the default backtest, its run folder written."""
    cfg = load_config(ROOT / "config" / "backtest.yaml")
    result = run_backtest(cfg)
    folder = tmp_path_factory.mktemp("default-run")
    write_backtest_outputs(folder, cfg, result, run_notes(cfg))
    return cfg, result, folder


# -- tests that fork: alone in a pytest process of their own -----------------------------------------

ALONE = "FLOWBOT_FORK_TESTS_ALONE"
_alone_runs: dict[str, subprocess.CompletedProcess] = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "forks: the test makes the report fork children; it runs in a pytest "
                                       "process with no other thread")


def pytest_pyfunc_call(pyfuncitem):
    """A ``forks`` test beside other threads (pytest-xdist's receiver thread, IB clients other tests left)
    would fork a process holding their locks, so the report rightly refuses to fork there: its module is
    run once more in a fresh pytest process, where it can fork, and the test takes its outcome from there."""
    if pyfuncitem.get_closest_marker("forks") is None or os.environ.get(ALONE) or threading.active_count() <= 1:
        return None
    module = str(pyfuncitem.path)
    if module not in _alone_runs:
        _alone_runs[module] = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "-rA", module],
            cwd=ROOT, env={**os.environ, ALONE: "1"}, capture_output=True, text=True)
    done = _alone_runs[module]
    assert f"PASSED {pyfuncitem.nodeid}" in done.stdout.splitlines(), done.stdout[-4000:]
    return True
