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


#: Starts the measured command and reports its wall time, CPU time and peak memory. Linux carries a
#: process's peak RSS across fork and exec, so a command started straight from a bench script that holds
#: a big table (big_csv.py, cli_vs_numpy.py make their data in-process) would report the script's peak as
#: its own: 564 MB for a run whose own peak is 400 MB. This small launcher is the measured command's parent
#: instead; its own start is not timed.
_LAUNCHER = """
import os, subprocess, sys, time
report, cmd = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
process = subprocess.Popen(cmd)
_, status, usage = os.wait4(process.pid, 0)
seconds = time.perf_counter() - started
with open(report, "w") as f:
    f.write(f"{seconds} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def measure(cmd: list[str], cwd: Path = ROOT) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak MB) of one process run in ``cwd`` with ``user_env()``, started by
    ``_LAUNCHER``; exits with its stderr if it fails."""
    with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile("r") as report:
        # errors: a file, not a pipe: a chatty run would block on a full pipe
        subprocess.run([sys.executable, "-c", _LAUNCHER, report.name, *cmd], cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=errors, env=user_env())
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
        fields = report.read().split()
    if len(fields) != 4 or int(fields[3]) != 0:
        sys.exit(f"{cwd}: {' '.join(cmd)} failed:\n{stderr[-3000:]}")
    seconds, cpu, peak_kb = float(fields[0]), float(fields[1]), float(fields[2])
    return seconds, cpu, peak_kb / 1024


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak MB) of one process."""
    seconds, _, peak = measure(cmd)
    return seconds, peak


def tree_at(commit: str, folder: Path) -> Path:
    """``commit``'s files (``git archive``) extracted into ``folder`` (made here), for timing it beside this tree."""
    folder.mkdir()
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder
