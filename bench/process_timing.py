"""Time one command as its own process: wall seconds, CPU seconds and peak memory (shared by the bench scripts)."""
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


def measure(cmd: list[str], cwd: Path = ROOT) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak MB) of one process run in ``cwd``; exits with its stderr if it fails."""
    with tempfile.TemporaryFile() as errors:   # a file, not a pipe: a chatty run would block on a full pipe
        started = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
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
