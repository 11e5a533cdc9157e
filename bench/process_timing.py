"""Time one command as its own process: wall seconds, CPU seconds and peak memory (shared by the bench scripts).

The children run as a user's shell would start them: without ``PYTHONDONTWRITEBYTECODE`` (which
some environments, this project's sessions among them, set), so that Python caches the bytecode of
flowbot's own modules in ``__pycache__`` as it does on a user's machine. Call ``warm_up`` once
before timing a command: its run writes that cache (untimed), so the timed runs read bytecode and
do not compile flowbot's ~90 modules from source each time (about 0.2 s a run).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def flowbot() -> list[str]:
    """The ``flowbot`` command of this interpreter's environment."""
    script = Path(sys.executable).with_name("flowbot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "runner"]


def user_env() -> dict[str, str]:
    """This process's environment without ``PYTHONDONTWRITEBYTECODE``: children cache bytecode, as a user's do."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def warm_up(cmd: list[str], cwd: Path = ROOT) -> None:
    """Run ``cmd`` once, untimed, so that its modules' bytecode is in ``__pycache__`` for the timed runs."""
    measure(cmd, cwd)


def measure(cmd: list[str], cwd: Path = ROOT) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak MB) of one process run in ``cwd`` with ``user_env()``; exits with its
    stderr if it fails."""
    with tempfile.TemporaryFile() as errors:   # a file, not a pipe: a chatty run would block on a full pipe
        started = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors, env=user_env())
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cwd}: {' '.join(cmd)} failed:\n{stderr[-3000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak MB) of one process."""
    seconds, _, peak = measure(cmd)
    return seconds, peak
