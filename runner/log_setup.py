"""loguru, configured in one place: a console sink, a run.log sink per run, stdlib logging routed in.

Account ids (IB: U1234567, paper DU1234567) are masked in every sink.
"""
from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

from loguru import logger

ACCOUNT_ID = re.compile(r"\b(D?U)(\d{3,})(\d{2})\b")
CONSOLE_FORMAT = "<green>{time:HH:mm:ss zz}</green> <level>{level: <7}</level> {extra[context]}{message}"
FILE_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS ZZ} | {level: <8} | {name}:{line} | {extra[context]}{message}"


def mask_accounts(text: str) -> str:
    return ACCOUNT_ID.sub(lambda m: f"{m.group(1)}{'*' * len(m.group(2))}{m.group(3)}", text)


def _patch(record) -> None:
    record["message"] = mask_accounts(record["message"])
    extra = record["extra"]
    context = [str(extra[k]) for k in ("strategy", "symbol", "order_ref") if extra.get(k)]
    extra["context"] = f"[{' '.join(context)}] " if context else ""


class _StdlibToLoguru(logging.Handler):
    """Routes the IB libraries' (and others') stdlib logging into loguru."""

    #: Chatty libraries: their INFO (every order status, farm notices) goes to run.log only.
    QUIET = ("ib_insync", "ib_async", "asyncio")
    #: The IB libraries' warnings and errors too: runner/ib reports each gateway error itself, in our words
    #: (a refused connection would otherwise print the library's line and then ours).
    REPORTED_BY_US = ("ib_insync", "ib_async")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        if level == "INFO" and record.name.startswith(self.QUIET):
            level = "DEBUG"
        if record.name.startswith(self.REPORTED_BY_US) and record.levelno < logging.CRITICAL:
            level = "DEBUG"
        logger.opt(depth=6, exception=record.exc_info).bind(source=record.name).log(level, record.getMessage())


def _to_stderr(message) -> None:
    try:
        sys.stderr.write(message)
    except ValueError:   # closed
        pass


def configure_console(level: str = "INFO") -> None:
    """The console sink (stderr). Safe to call again: it replaces all sinks."""
    logger.remove()
    logger.configure(patcher=_patch, extra={"context": ""})
    # The stderr of the moment each line is written, not the one of this call: a thread still logging after
    # the command ended (or a test's captured stream, closed since) never writes to a closed file.
    colour = bool(getattr(sys.stderr, "isatty", lambda: False)())
    logger.add(_to_stderr, level=level, format=CONSOLE_FORMAT, colorize=colour, backtrace=False, diagnose=False)
    logging.basicConfig(handlers=[_StdlibToLoguru()], level=logging.INFO, force=True)


def add_run_log(path: Path, level: str = "DEBUG") -> int:
    """Add the run's file sink; returns its id for ``logger.remove``."""
    return logger.add(path, level=level, format=FILE_FORMAT, enqueue=False, backtrace=True, diagnose=False,
                      encoding="utf-8")
