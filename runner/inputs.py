"""Checks every input from outside passes before flowbot acts on it.

- :func:`check_input_file`: a config or data file is a regular file of a
  sane size (not a folder, a FIFO, ``/dev/zero``), checked with ``stat``
  before anything opens it, so nothing hangs or fills the memory;
- :func:`safe_name` and :func:`inside`: text that becomes part of a path (a
  symbol, a run name, a label) stays one plain path component inside its
  folder;
- :func:`plausible_date`: a date the user gives (``--start``, ``start:``, ``--set
  end=...``) lies in the span of the NYSE calendar the playbooks plan with;
- :func:`shown`: a value quoted in a message, cut to a readable length and on
  one line.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import os
import re
import stat
from pathlib import Path

from runner.errors import UserInputError

#: Config files are hand-written (the shipped ones are 1-3 KB): anything larger is not one, and PyYAML
#: parses about 40 KB a second, so a 2 MB file took close to a minute.
MAX_CONFIG_BYTES = 256 * 1024
#: Data files: 20 years of 1-minute bars is about 150 MB of CSV.
MAX_DATA_BYTES = 2 * 1024 * 1024 * 1024

#: The first day of the NYSE calendar (strategies.market_calendar.CALENDAR_START); it reaches two years ahead.
EARLIEST_DATE = dt.date(1990, 1, 1)
_YEARS_AHEAD = 2

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}$")


def shown(value, limit: int = 60) -> str:
    """``repr(value)`` on one line, cut to about ``limit`` characters."""
    return cut(repr(value), limit)


def cut(text: str, limit: int = 80) -> str:
    """``text`` on one line (control characters escaped), cut to about ``limit`` characters."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))
    if len(text) > limit:
        text = f"{text[:limit - 20]}...{text[-8:]} ({len(text):,} characters)"
    return text


#: The option names (argparse dests) of the command that is running: a message tells the user to set
#: ``delimiter`` with ``--delimiter`` only where the command has that option (pressure, for one, has not).
COMMAND_OPTIONS: contextvars.ContextVar[frozenset] = contextvars.ContextVar("command_options", default=frozenset())


def data_setting(key: str, value: str) -> str:
    """How to set the data-source key ``key`` (``delimiter``, ``date_format``) to ``value`` in this command."""
    if key in COMMAND_OPTIONS.get():
        return f"--{key.replace('_', '-')} '{value}' (data.{key}: '{value}' in YAML)"
    return f"{key}: '{value}' on that data source in the YAML file (e.g. {{path: FILE, {key}: '{value}'}})"


def latest_date() -> dt.date:
    """The last date the calendar knows (a little under two years from today)."""
    today = dt.date.today()
    return today.replace(year=today.year + _YEARS_AHEAD, day=min(today.day, 28)) - dt.timedelta(days=1)


def plausible_date(day: dt.date, what: str = "", error=UserInputError) -> dt.date:
    """``day`` if the NYSE calendar can place it (1990-01-01 to about two years ahead); else refuse it."""
    if not EARLIEST_DATE <= day <= latest_date():
        prefix = f"{what}: " if what else ""
        raise error(f"{prefix}expected a date from {EARLIEST_DATE} (the first year of the NYSE calendar the "
                    f"playbooks use) to {latest_date()} (got {day})")
    return day


def check_input_file(path: Path, what: str, limit: int, error=UserInputError) -> int:
    """Refuse a missing, special or oversized input file with one message; return its size."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except NotADirectoryError:
        raise error(f"{path}: no such {what} (a part of the path is a file, not a folder)") from None
    except ValueError as exc:   # a NUL byte in the name
        raise error(f"{shown(str(path))}: not a usable file name ({exc})") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{path}: is a folder; expected a {what}")
    if not stat.S_ISREG(info.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
        raise error(f"{path}: is {kind}; expected a {what} (a regular file)")
    if info.st_size > limit:
        raise error(f"{path}: is {_size(info.st_size)}; a {what} is at most {_size(limit)}")
    if not os.access(path, os.R_OK):
        raise error(f"{path}: cannot read the {what} (permission denied)")
    return info.st_size


def _size(count: int) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 1e6 else f"{count / 1e3:,.0f} KB"


def safe_name(text, what: str, error=UserInputError) -> str:
    """``text`` if it can be one path component (letters, digits, space, ``_ . + -``); else refuse it."""
    if not isinstance(text, str) or not _NAME.match(text) or ".." in text or text != text.strip():
        raise error(f"{what} {shown(text)}: expected 1 to 64 letters, digits, spaces or _ . + - "
                    f"(starting with a letter or digit, no '..'); it becomes part of a file name")
    return text


def inside(folder: Path, path: Path, what: str, error=UserInputError) -> Path:
    """``path`` if it resolves inside ``folder`` (symbolic links followed); else refuse it."""
    base = Path(folder).resolve()
    target = Path(path).resolve()
    if target != base and base not in target.parents:
        raise error(f"{what}: {path} would be outside {folder}")
    return path


def check_output_file(path: Path, what: str, error=UserInputError) -> Path:
    """Refuse an output file the user named that cannot be written: a folder, under a file, a device."""
    path = Path(path)
    try:
        if path.is_dir():
            raise error(f"{what} {cut(str(path))}: is a folder; expected a file name")
        if path.exists() and not path.is_file():
            raise error(f"{what} {cut(str(path))}: exists and is not a regular file")
        blocker = next((p for p in path.parents if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise error(f"{what} {cut(str(path))}: {cut(str(blocker))} is a file, not a folder")
    except OSError as exc:
        raise error(f"{what} {cut(str(path))}: cannot use it ({exc.strerror or exc})") from None
    return path


def write_output_file(path: Path, text: str, what: str, error=UserInputError) -> None:
    """Write ``text`` to a file the user named, whole or not at all (a temporary name, then renamed)."""
    path = check_output_file(path, what, error)
    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
        raise error(f"{what} {cut(str(path))}: cannot write it ({exc.strerror or exc})") from None


def has_control_characters(text: str) -> bool:
    """NUL, newline, tab or another C0/DEL control character: never part of a path a user means."""
    return any(ord(c) < 32 or ord(c) == 127 for c in text)
