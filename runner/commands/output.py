"""``-q/--quiet`` and ``--json``: the same meaning on every command.

``--json``: the summary as one JSON object on stdout; logs stay on stderr.
``-q``: only warnings and errors on the console; the run folder's path alone on stdout.
"""
from __future__ import annotations

import argparse
import json
import sys


def add_quiet(parser: argparse.ArgumentParser, top: bool = False) -> None:
    # SUPPRESS on subcommands: a subparser's default would overwrite `flowbot -q backtest`.
    parser.add_argument("-q", "--quiet", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="only warnings and errors on the console")


def add_json(parser: argparse.ArgumentParser, what: str = "the summary") -> None:
    parser.add_argument("--json", action="store_true",
                        help=f"print {what} as one JSON object on stdout (logs go to stderr)")


def quiet(args) -> bool:
    return bool(getattr(args, "quiet", False))


def wants_json(args) -> bool:
    return bool(getattr(args, "json", False))


def console_level(args, configured: str = "INFO") -> str:
    """The console log level: the config's, raised to WARNING by -q (--json keeps the logs, on stderr)."""
    return "WARNING" if quiet(args) else configured


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, default=str, allow_nan=False) + "\n")
    sys.stdout.flush()
