"""Start-up: building the parser (``flowbot --help``) imports no command's implementation, and the commands that
run no backtest (config check/show, list) import none of the backtest's libraries."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("pandas", "numpy", "backtrader", "matplotlib", "optuna", "pyarrow", "ib_insync", "ib_async",
         "exchange_calendars", "pydantic", "loguru", "runner.sim.gateway", "runner.backtest.run")


#: What only running a backtest (or a paper session) needs.
BACKTEST_ONLY = ("pandas", "numpy", "backtrader", "matplotlib", "pyarrow", "exchange_calendars", "optuna",
                 "ib_insync", "ib_async", "strategies.market_calendar", "strategies.signals.indicators")


def _modules_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_building_the_parser_imports_no_command_implementation():
    loaded = _modules_after("from runner.cli import build_parser\nbuild_parser()")
    assert sorted(m for m in HEAVY if m in loaded) == []
    # ...yet every subcommand is there
    assert {"runner.optimize.command", "runner.fetch.command", "runner.sim.command"} <= loaded


def test_help_lists_every_command_without_loading_them():
    probe = ("import contextlib, io\nfrom runner.cli import main\nout = io.StringIO()\n"
             "with contextlib.redirect_stdout(out):\n    code = main(['--help'])\n"
             "assert code == 0, code\n"
             "assert all(c in out.getvalue() for c in ('backtest', 'paper', 'optimize', 'fetch', 'gateway-sim'))")
    loaded = _modules_after(probe)
    assert sorted(m for m in HEAVY if m in loaded) == []


def test_the_simulator_package_still_exports_the_gateway():
    from runner.sim import OrderView, SimulatedGateway

    assert SimulatedGateway.__name__ == "SimulatedGateway" and OrderView.__name__ == "OrderView"


def test_the_config_layer_imports_no_backtest_library():
    loaded = _modules_after("import runner.config\nimport runner.optimize.sweep_config\n"
                            "from strategies.registry import STRATEGIES, card_of\n"
                            "assert 'december_fade' in STRATEGIES and card_of('december_fade').Params")
    assert sorted(m for m in BACKTEST_ONLY if m in loaded) == []


@pytest.mark.parametrize("command", [["config", "check"], ["config", "check", "config/sweeps/december_fade.yaml"],
                                     ["config", "show"], ["list"], ["list", "vwap_close_fade", "--json"],
                                     ["--help"]])
def test_commands_that_run_no_backtest_import_none_of_its_libraries(command):
    probe = ("import contextlib, io\nfrom runner.cli import main\nout = io.StringIO()\n"
             f"with contextlib.redirect_stdout(out):\n    code = main({command!r})\n"
             "assert code == 0, code\nassert out.getvalue().strip()")
    loaded = _modules_after(probe)
    assert sorted(m for m in BACKTEST_ONLY if m in loaded) == []


def test_status_of_a_paper_run_imports_none_of_the_backtest_libraries(tmp_path):
    folder = tmp_path / "logs" / "20261201-080000-paper-year-end-paper"
    folder.mkdir(parents=True)
    probe = ("import contextlib, io\nfrom pathlib import Path\nfrom runner.cli import main\n"
             "from runner.paper.status_file import SessionStatus\n"
             f"SessionStatus('year-end-paper', Path({str(folder)!r})).update(state='live', "
             "positions={'IWM': {'size': 25.0, 'price': 150.5}})\n"
             "out = io.StringIO()\n"
             f"with contextlib.redirect_stdout(out):\n    code = main(['status', '--logs', {str(folder.parent)!r}])\n"
             "assert code == 0, code\nassert 'IWM' in out.getvalue(), out.getvalue()")
    loaded = _modules_after(probe)
    assert sorted(m for m in BACKTEST_ONLY if m in loaded) == []
