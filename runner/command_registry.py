"""Subcommands that live beside their feature (optimize, fetch, gateway-sim).

Each listed module defines ``register(commands, add_set)``: it adds its
subparser to ``commands`` (argparse sub-parsers) and sets ``handler`` to a
function taking the parsed arguments and returning an exit code.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator

COMMAND_MODULES = (
    "runner.optimize.command",
    "runner.fetch.command",
    "runner.sim.command",
    "runner.pressure.command",
    "runner.commands.list_cmd",
    "runner.commands.show_cmd",
    "runner.commands.compare_cmd",
    "runner.commands.new_cmd",
    "runner.paper.status_command",
)


def registrars() -> Iterator[Callable]:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue   # that feature is not installed in this tree
            raise
        yield module.register
