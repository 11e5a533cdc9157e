"""A backtest, refused or run, writes nothing in the user's home or cache folders (issue 12: nothing outside the
run folder). The NYSE session table comes with flowbot (strategies/calendar_table.py); no cache is kept unless
FLOWBOT_CALENDAR_CACHE asks for one."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Five NYSE sessions of December 2019: too few for the playbook's indicators.
SHORT = "time,open,high,low,close,volume\n" + "".join(
    f"2019-12-{d:02d},{100 + d},{101 + d},{99 + d},{100.5 + d},1000\n" for d in (2, 3, 4, 5, 6))


@pytest.mark.parametrize("case", ["decimal comma", "too short", "runs"])
def test_a_backtest_writes_nothing_in_home_or_the_cache_folder(case, tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    data = work / "bars.csv"
    if case == "decimal comma":
        data.write_text("time,open,high,low,close,volume\n2019-12-02,\"1229,23\",1230,1228,1229,1000\n")
    elif case == "too short":
        data.write_text(SHORT)
    env = {k: v for k, v in os.environ.items() if k not in ("FLOWBOT_CALENDAR_CACHE", "XDG_CACHE_HOME",
                                                            "XDG_CONFIG_HOME", "MPLCONFIGDIR")}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT))
    source = [] if case == "runs" else ["--data", str(data)]   # runs: the embedded sample
    done = subprocess.run([sys.executable, "-m", "runner", "backtest", "--strategy", "december_fade", *source,
                           "--out", str(work / "run"), "--set", "output.report=false"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == (0 if case == "runs" else 2), done.stderr
    assert not list(home.rglob("*")), f"written in HOME: {sorted(home.rglob('*'))}"
