"""The notebook API: from runner import backtest; r = backtest(config, set={...})."""
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_backtest_returns_frames_and_metrics():
    from runner import backtest

    r = backtest("config/backtest.yaml", set={"strategies.december_fade.params.rally_pct": 1.0},
                 strategy="december_fade")
    assert isinstance(r.trades, pd.DataFrame) and isinstance(r.orders, pd.DataFrame)
    assert list(r.equity.columns) == ["strategy", "time", "value", "cash"]
    assert isinstance(r.metrics, dict) and r.figures()["performance"]["trades"] == len(r.trades) == 4
    assert r.figures("december_fade") is r.metrics["playbooks"]["december_fade"]
    with pytest.raises(KeyError, match="no playbook 'nope'.*december_fade"):
        r.figures("nope")
    assert r.config.strategies[0].params["rally_pct"] == 1.0
    assert r.folder is None
    assert "december_fade [REAL+PROXY]: 4 trades" in repr(r)


def test_backtest_matches_the_cli_and_writes_a_folder_when_asked(tmp_path):
    from runner import backtest
    from runner.cli import main

    assert main(["backtest", "-q", "--strategy", "january_snapback", "--out", str(tmp_path / "cli")]) == 0
    r = backtest(strategy=["january_snapback"], out=tmp_path / "api")
    assert (tmp_path / "api" / "trades.csv").read_text() == (tmp_path / "cli" / "trades.csv").read_text()
    assert r.folder == tmp_path / "api"


def test_bad_input_raises_the_cli_message():
    from runner import backtest
    from runner.errors import ConfigError

    with pytest.raises(ConfigError, match=r"rally_pct.*: must be > 0 \(got -1\)"):
        backtest(set={"strategies.december_fade.params.rally_pct": -1})


@pytest.mark.parametrize("code", [
    # the function first, then the submodule: the name still calls
    "from runner import backtest\nfrom runner.backtest import run_backtest\nimport runner.backtest.engine\n"
    "r = backtest(strategy='december_fade')\nassert callable(run_backtest)\n",
    # the submodule first (runner.backtest is then bound to the package), then the function
    "from runner.backtest import run_backtest\nimport runner.backtest.run\nfrom runner import backtest\n"
    "r = backtest(strategy='december_fade')\nassert callable(run_backtest)\n",
    # plain attribute access
    "import runner\nr = runner.backtest(strategy='december_fade')\n",
])
def test_both_import_orders_work_in_a_fresh_interpreter(code):
    code += "print(len(r.trades), r.metrics['trades'], type(r.equity).__name__)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "3", "DataFrame"]


def test_outside_the_repository_the_shipped_config_runs_quietly(tmp_path):
    code = ("from runner import backtest\n"
            "r = backtest('config/backtest.yaml', strategy='january_snapback')\n"
            "print(r.figures()['performance']['trades'], len(r.trades))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "3"]
    assert "INFO" not in result.stderr   # the notebook's console stays quiet (log_level WARNING)
    assert not (tmp_path / "logs").exists()   # nothing written without out=
