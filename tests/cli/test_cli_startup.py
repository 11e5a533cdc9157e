"""Start-up: building the parser (``flowbot --help``) imports no command's implementation."""
from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "numpy", "backtrader", "matplotlib", "optuna", "pyarrow", "ib_insync", "ib_async",
         "exchange_calendars", "pydantic", "loguru", "runner.sim.gateway", "runner.backtest.run")


def _modules_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
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
