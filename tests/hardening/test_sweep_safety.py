"""flowbot optimize under hostile conditions: sizes bounded before allocating, resume never loses or mixes
finished work, workers die with their parent however it ends."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from hardening_probe import assert_one_clean_error, run_cli
from runner.optimize import results_file
from runner.optimize.results_file import ResultsFile, read_results

BASE = """name: tiny
start: 2008-01-01
end: 2012-12-31
strategies:
  - name: december_fade
    symbol: SPX
    data: spx.csv
"""
SWEEP = """name: s
base: base.yaml
strategies: [december_fade]
parameters:
  strategies.december_fade.params.rally_pct: PARAM
search: {method: grid}
objective: {metric: total_return_pct, direction: maximize}
"""


@pytest.fixture
def sweep_dir(tmp_path):
    from runner.data.sample import load_sample

    bars = load_sample("sp500").loc["2007":"2012"]
    frame = bars.copy()
    frame.index = frame.index.strftime("%Y-%m-%d")
    frame.index.name = "Date"
    frame.to_csv(tmp_path / "spx.csv")
    (tmp_path / "base.yaml").write_text(BASE)
    return tmp_path


def write_sweep(folder: Path, param: str = "[1.0, 1.5, 2.0]", **replace) -> Path:
    text = SWEEP.replace("PARAM", param)
    for old, new in replace.items():
        text = text.replace(old, new)
    (folder / "s.yaml").write_text(text)
    return folder / "s.yaml"


# -- sizes bounded before anything is allocated ------------------------------------------------------------

@pytest.mark.parametrize("param, expected", [
    ("{low: 0.75, high: 3.0, step: 1e-9}", "the grid has 2,250,000,001 runs"),
    ("{low: 0.1, high: 1e308, step: 1}", "the grid has"),
    ("{low: 0.1, high: 9.0, step: 1e-300}", "the grid has"),
])
def test_a_huge_grid_is_refused_by_arithmetic(param, expected, sweep_dir, capsys, monkeypatch):
    write_sweep(sweep_dir, param)
    tracemalloc.start()
    try:
        code, _, err, made = run_cli(["optimize", "-c", "s.yaml", "--no-progress"], sweep_dir, capsys, monkeypatch)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert expected in assert_one_clean_error(code, err)
    assert peak < 200 * 2 ** 20, peak   # no grid was built (a billion values are gigabytes)
    assert made == set()


@pytest.mark.parametrize("trials, expected", [("1000000000", "must be <= 100000"), ("-1", "must be >= 1"),
                                              ("yes", "not true"), ("1.5", "whole number"), (".inf", "")])
def test_trials_are_capped(trials, expected, sweep_dir, capsys, monkeypatch):
    write_sweep(sweep_dir, "{low: 1.0, high: 2.0}", **{"search: {method: grid}": f"search: {{method: random, trials: {trials}}}"})
    code, _, err, made = run_cli(["optimize", "-c", "s.yaml", "--no-progress"], sweep_dir, capsys, monkeypatch)
    assert expected in assert_one_clean_error(code, err)
    assert made == set()


@pytest.mark.parametrize("workers, extra, expected", [
    ("1000", [], "add --oversubscribe"), ("1000", ["--oversubscribe"], "at most 64"), ("0", [], "at least 1"),
    ("-3", [], "at least 1"), (str((os.cpu_count() or 1) + 1), [], "add --oversubscribe"),
])
def test_workers_are_capped_at_the_cores(workers, extra, expected, sweep_dir, capsys, monkeypatch):
    write_sweep(sweep_dir)
    code, _, err, made = run_cli(["optimize", "-c", "s.yaml", "--no-progress", "--workers", workers, *extra],
                                 sweep_dir, capsys, monkeypatch)
    assert expected in assert_one_clean_error(code, err)
    assert made == set()


# -- resume -------------------------------------------------------------------------------------------------

@pytest.fixture
def finished(sweep_dir, capsys, monkeypatch):
    write_sweep(sweep_dir)
    code, _, err, _ = run_cli(["optimize", "-c", "s.yaml", "--no-progress", "--workers", "1", "--out", "run"],
                              sweep_dir, capsys, monkeypatch)
    assert code == 0, err
    return sweep_dir / "run"


def test_a_sweep_reads_each_data_file_once_for_its_checksum(sweep_dir, capsys, monkeypatch):
    import hashlib
    import json

    from runner.data import checksum
    from runner.optimize import sweep_state
    from runner.report import provenance

    read = []

    def counted(path):
        read.append(Path(path).name)
        return checksum.file_sha256(path)

    monkeypatch.setattr(sweep_state, "file_sha256", counted)
    monkeypatch.setattr(provenance, "file_sha256", counted)
    write_sweep(sweep_dir)
    code, _, err, _ = run_cli(["optimize", "-c", "s.yaml", "--no-progress", "--workers", "1", "--out", "run"],
                              sweep_dir, capsys, monkeypatch)
    assert code == 0, err
    assert read.count("spx.csv") == 1, read   # at the start (optimize.json); the report's record reuses it
    sha = hashlib.sha256((sweep_dir / "spx.csv").read_bytes()).hexdigest()
    state = json.loads((sweep_dir / "run" / "optimize.json").read_text())
    assert list(state["data"].values()) == [sha]
    record = json.loads((sweep_dir / "run" / "summary.json").read_text())["provenance"]
    assert [f["sha256"] for source in record["data_files"] for f in source["files"]] == [sha]


@pytest.mark.parametrize("change", ["one price", "a row more", "file gone"])
def test_resume_refuses_changed_data_files(change, finished, sweep_dir, capsys, monkeypatch):
    data = sweep_dir / "spx.csv"
    lines = data.read_text().splitlines()
    if change == "one price":
        fields = lines[300].split(",")
        fields[4] = f"{float(fields[4]) + 0.01:.4f}"
        lines[300] = ",".join(fields)
        data.write_text("\n".join(lines) + "\n")
    elif change == "a row more":
        data.write_text("\n".join(lines[:-1]) + "\n")
    else:
        data.unlink()
    before = (finished / "results.csv").read_bytes()
    code, _, err, made = run_cli(["optimize", "--resume", "run", "--no-progress"], sweep_dir, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert "spx.csv" in message
    assert (finished / "results.csv").read_bytes() == before and made == set()


@pytest.mark.parametrize("damage, expected", [
    ("optimize.json", "optimize.json is damaged"), ("optimize.json:[]", "optimize.json is damaged"),
    ("optimize.json:binary", "optimize.json is damaged"), ("results.csv:binary", "not a results file"),
    ("results.csv:columns", "columns do not match"), ("results.csv:run", "is not a run number"),
])
def test_resume_refuses_damaged_state(damage, expected, finished, sweep_dir, capsys, monkeypatch):
    name, _, how = damage.partition(":")
    target = finished / name
    if how == "binary":
        target.write_bytes(bytes(range(256)) * 8)
    elif how == "[]":
        target.write_text("[]")
    elif how == "columns":
        target.write_text("run,nonsense\n0,1\n")
    elif how == "run":
        lines = target.read_text().splitlines()
        lines[1] = "-7" + lines[1][lines[1].index(","):]
        target.write_text("\n".join(lines) + "\n")
    else:
        target.write_text("{not json")
    code, _, err, made = run_cli(["optimize", "--resume", "run", "--no-progress"], sweep_dir, capsys, monkeypatch)
    assert expected in assert_one_clean_error(code, err)
    assert made == set()


@pytest.mark.parametrize("cut_at", [1, 7, 30])
def test_a_failed_repair_of_results_keeps_every_saved_row(cut_at, tmp_path, monkeypatch):
    """A crash left a cut last line; repairing it writes a new file then renames it. If the disk is full
    during that write, the original file (every finished row) is untouched."""
    columns = ["run", "status", "x", "seconds"]
    path = tmp_path / "results.csv"
    rows = "".join(f"{i},ok,{i / 10},0.5\n" for i in range(40))
    path.write_text("run,status,x,seconds\n" + rows + "40,ok,4."[:cut_at])
    original = path.read_bytes()

    real_open = Path.open

    def full_disk(self, mode="r", *args, **kwargs):
        if self.name.endswith(".partial") and "w" in mode:
            raise OSError(28, "No space left on device", str(self))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", full_disk)
    with pytest.raises(results_file.UserInputError, match="saved rows are untouched"):
        ResultsFile(path, columns)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert not (tmp_path / "results.csv.partial").exists()
    repaired = ResultsFile(path, columns)   # with room on the disk: repaired by rename, rows kept
    assert repaired.dropped == 1, "the cut line is counted (the sweep's log says its run is run again)"
    repaired.append({"run": 40, "status": "ok", "x": 4.0, "seconds": 0.5})
    repaired.close()
    assert [r["run"] for r in read_results(path, columns)] == list(range(41))


# -- workers die with their parent ------------------------------------------------------------------------

def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(condition, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_workers_die_with_the_parent(how, sweep_dir):
    write_sweep(sweep_dir, "{low: 0.5, high: 5.0, step: 0.01}")   # 451 runs: still running when signalled
    process = subprocess.Popen([sys.executable, "-m", "runner", "optimize", "-c", "s.yaml", "--no-progress",
                                "--workers", "2", "--oversubscribe", "--out", "run"], cwd=sweep_dir,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        results = sweep_dir / "run" / "results.csv"
        assert wait_until(lambda: results.exists() and results.read_text().count("\n") >= 3), "no run finished"
        workers = children_of(process.pid)
        assert len(workers) >= 2, workers
        process.send_signal(how)
        _, err = process.communicate(timeout=120)
        assert wait_until(lambda: not any(alive(w) for w in workers)), "a worker outlived its parent"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if how == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:   # like Ctrl-C: saved runs kept, a message, exit 130
        assert process.returncode == 130, err
        assert "resume with: flowbot optimize" in err and "Traceback" not in err
    saved = read_results(sweep_dir / "run" / "results.csv")
    assert len(saved) >= 2 and len({r["run"] for r in saved}) == len(saved)


@pytest.mark.parametrize("seed, expected", [("-1", "must be >= 0"), ("99999999999999999999999999", "must be <= 4294967295"),
                                            ("1.5", "whole number"), ("yes", "not true")])
def test_a_seed_numpy_cannot_take_is_refused(seed, expected, sweep_dir, capsys, monkeypatch):
    write_sweep(sweep_dir, "{low: 1.0, high: 2.0}",
                **{"search: {method: grid}": f"search: {{method: random, trials: 2, seed: {seed}}}"})
    code, _, err, made = run_cli(["optimize", "-c", "s.yaml", "--no-progress"], sweep_dir, capsys, monkeypatch)
    assert expected in assert_one_clean_error(code, err)
    assert made == set()


@pytest.mark.parametrize("scheduler, expected", [
    ("not a url", "expected tcp://HOST:PORT"), ("tcp://127.0.0.1:99999", "expected tcp://HOST:PORT"),
    ("udp://x:5", "expected tcp://HOST:PORT"), ("x" * 500, "expected tcp://HOST:PORT"),
    ("tcp://127.0.0.1:CLOSED", "cannot reach the Dask scheduler"),
])
def test_a_dask_scheduler_that_cannot_be_used_is_refused_before_the_run_folder(scheduler, expected, sweep_dir,
                                                                              capsys, monkeypatch):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    write_sweep(sweep_dir)
    args = ["optimize", "-c", "s.yaml", "--no-progress", "--executor", "dask",
            "--scheduler", scheduler.replace("CLOSED", str(closed)), "--out", "run"]
    code, _, err, made = run_cli(args, sweep_dir, capsys, monkeypatch)
    assert expected in assert_one_clean_error(code, err)
    assert made == set()
