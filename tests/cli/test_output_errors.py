"""A command whose stdout cannot be written (a full disk, a closed pipe): one message, exit 1, no traceback."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _flowbot(args, stdout):
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=ROOT, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=300)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["list", "december_fade"], ["--help"],
                                  ["--version"], ["backtest", "--help"]])
def test_a_full_stdout_is_one_message(args):
    with open("/dev/full", "w") as full:
        done = _flowbot(args, full)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["failed: could not write the output to stdout: No space left on device"]


def test_a_closed_pipe_is_one_message():
    read, write = os.pipe()
    os.close(read)   # the reader is gone before anything is written: every write fails with EPIPE
    try:
        done = _flowbot(["list", "--json"], write)
    finally:
        os.close(write)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["failed: could not write the output to stdout: Broken pipe"]
