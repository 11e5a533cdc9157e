"""One default backtest (the three playbooks on the embedded samples) shared by the report tests."""
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
