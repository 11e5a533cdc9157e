"""Argument types and options that several subcommands share (stdlib only: the parser stays cheap)."""
from __future__ import annotations

import argparse
import datetime as dt
import math


def iso_date(text: str) -> dt.date:
    """argparse type for YYYY-MM-DD; a wrong date is a usage error (exit 2), not a traceback."""
    from runner.inputs import plausible_date, shown

    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD (got {shown(text)})") from None
    return plausible_date(day, error=argparse.ArgumentTypeError)


def seconds(text: str) -> float:
    """argparse type for a duration in seconds: a finite number > 0, at most a year."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0 or value > 366 * 86_400:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0 and at most a year (got {text!r})")
    return value


def port_number(text: str) -> int:
    """argparse type for a TCP port to listen on: 1 to 65535 (0 = any free port)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535 (got {text!r})")
    return value


def add_set(parser: argparse.ArgumentParser, example: str = "strategies.december_fade.params.rally_pct=2") -> None:
    """The ``--set dotted.key=value`` override every config-reading command takes; ``example`` is a key of the
    file that command reads (a pressure file has no strategies)."""
    parser.add_argument("--set", action="append", default=[], metavar="dotted.key=value", dest="overrides",
                        help=f"override a config value (repeatable), e.g. {example}")
