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


class OutputError(OSError):
    """Writing a command's output to stdout failed (a full disk, a closed pipe): one message, exit 1."""


class GuardedStdout:
    """``sys.stdout`` while a command runs, so that every output (rich's console, ``--json``, print) passes
    through one place: a failed write or flush is raised as :class:`OutputError`, and stdout is then pointed
    at the null device, so that the interpreter's own flush at exit does not fail (or print) again."""

    def __init__(self, stream):
        self._stream = stream
        self.failed: OutputError | None = None

    def write(self, text):
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise self._failed(exc) from None

    def flush(self):
        try:
            return self._stream.flush()
        except OSError as exc:
            raise self._failed(exc) from None

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def _failed(self, exc: OSError) -> OutputError:
        import os

        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError, AttributeError):   # not a real file (a test's capture)
            pass
        self.failed = OutputError(exc.errno, f"could not write the output to stdout: {exc.strerror or exc}")
        return self.failed
