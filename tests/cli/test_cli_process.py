"""The ``flowbot`` process freezes its long-lived objects (runner.cli_process); ``main()`` called in a
process that is not ``flowbot`` (a test, a program) leaves the garbage collector as it was."""
from __future__ import annotations

import gc
import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _probe(code: str, tmp_path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_flowbot_script_runs_the_console_entry_point():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["flowbot"] == "runner.cli_process:console"
    assert "console()" in (ROOT / "runner" / "__main__.py").read_text()


def test_the_flowbot_process_freezes_the_run_inputs_and_everything_at_exit(tmp_path):
    out = tmp_path / "run"
    code = (
        "import gc, json, sys\n"
        "import runner.cli as cli\n"
        "import runner.backtest.run as run\n"
        "from runner import cli_process\n"
        "seen = {}\n"
        "real = run.run_backtest\n"
        "def spy(*args, **kwargs):\n"
        "    seen['before_run'] = gc.get_freeze_count()\n"
        "    return real(*args, **kwargs)\n"
        "run.run_backtest = spy\n"
        f"sys.argv = ['flowbot', 'backtest', '-q', '--set', 'output.report=false', '--out', {str(out)!r}]\n"
        "code = cli_process.console()\n"
        "print(json.dumps({'code': code, 'at_exit': gc.get_freeze_count(), **seen}))\n")
    seen = _probe(code, tmp_path)
    assert seen["code"] == 0
    # pandas, backtrader and the bars are frozen before the run starts (well above a bare interpreter's
    # objects), and everything is at exit
    assert seen["before_run"] > 100_000
    assert seen["at_exit"] >= seen["before_run"]
    assert (out / "trades.csv").read_text().startswith("strategy,")
    assert "done in" in (out / "run.log").read_text()


def test_main_called_in_process_freezes_nothing(tmp_path):
    from runner.cli import main

    before = gc.get_freeze_count()
    assert main(["backtest", "-q", "--set", "output.report=false", "--out", str(tmp_path / "run")]) == 0
    assert gc.get_freeze_count() == before


def test_the_report_hands_back_only_what_it_froze(tmp_path):
    """write_backtest_outputs freezes the run's objects while the report is made: it unfreezes them after,
    unless objects were frozen before it (the flowbot process's own, which stay frozen)."""
    code = (
        "import gc, json\n"
        "from runner.api import backtest\n"
        f"a = backtest(out={str(tmp_path / 'a')!r})\n"
        "after_alone = gc.get_freeze_count()\n"
        "gc.freeze(); frozen = gc.get_freeze_count()\n"
        f"b = backtest(out={str(tmp_path / 'b')!r})\n"
        "print(json.dumps({'alone': after_alone, 'kept': gc.get_freeze_count() >= frozen}))\n")
    seen = _probe(code, tmp_path)
    assert seen == {"alone": 0, "kept": True}
