"""Benchmark: one flowbot command on this tree against the same command on an earlier commit, interleaved.

    python bench/against_commit.py COMMIT [--rounds 3] -- backtest --set output.report=true
                                                             # from the repository root

Extracts ``COMMIT`` with ``git archive`` into a temporary folder and runs
``python -m runner ARGS --out DIR`` there and here, round after round, each its
own process with the same interpreter (so the same libraries; only flowbot's
code differs), and prints the median wall time, CPU time (user + system) and
peak memory of each, their ratios, and whether both wrote the same trades.csv.
CPU time says more than wall time on a machine other work shares. The children run without
``PYTHONDONTWRITEBYTECODE``, after one untimed warm-up run in each tree that writes its
``__pycache__``, so both trees load cached bytecode as on a user's machine (see process_timing). Last line:
``before_s=<a> now_s=<b> wall_ratio=<a/b> cpu_ratio=<c> identical_trades=<True|False>``.
``--no-out``: for commands that write no run folder (``config check``, ``list``, ``status``, ``--help``):
no ``--out``, and the same standard output in place of the same trades.csv (``identical_output=``).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from process_timing import ROOT, measure, tree_at, user_env, warm_up


def timed(tree: Path, args: list[str], out: Path | None) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak MB) of ``python -m runner ARGS --out OUT`` run in ``tree``."""
    return measure([sys.executable, "-m", "runner", *args, *(["--out", str(out)] if out else [])], cwd=tree)


def output_of(tree: Path, args: list[str]) -> bytes:
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=tree, capture_output=True,
                          env=user_env()).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-out", action="store_true", help="a command without --out (compare its output)")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    options = parser.parse_args(argv[:split])
    args = argv[split + 1:] or ["backtest"]   # after --: the flowbot command line
    results: dict[str, list[tuple[float, float, float]]] = {"before": [], "now": []}
    with tempfile.TemporaryDirectory() as tmp:
        before = tree_at(options.commit, Path(tmp) / "before")
        for name, tree in (("before", before), ("now", ROOT)):   # writes each tree's __pycache__, untimed
            warm_up([sys.executable, "-m", "runner", *args,
                     *([] if options.no_out else ["--out", str(Path(tmp) / f"warm-up-{name}")])], cwd=tree)
        for r in range(options.rounds):
            for name, tree in (("before", before), ("now", ROOT)):
                out = None if options.no_out else Path(tmp) / f"{name}-{r}"
                results[name].append(timed(tree, args, out))
            print(f"round {r + 1}: before {results['before'][-1][0]:.2f} s, now {results['now'][-1][0]:.2f} s "
                  f"(1-minute load average: {os.getloadavg()[0]:.2f})")
        if options.no_out:
            same, label = output_of(before, args) == output_of(ROOT, args), "identical_output"
        else:
            same, label = ((Path(tmp) / "before-0" / "trades.csv").read_bytes()
                           == (Path(tmp) / "now-0" / "trades.csv").read_bytes()), "identical_trades"
    medians = {name: [statistics.median(row[i] for row in rows) for i in range(3)] for name, rows in results.items()}
    for name, (wall, cpu, mb) in medians.items():
        print(f"{name:6}: {wall:.2f} s whole process, {cpu:.2f} s CPU, peak {mb:.0f} MB")
    print(f"flowbot {' '.join(args)} at {options.commit} and now; median of {options.rounds} rounds")
    print(f"before_s={medians['before'][0]:.2f} now_s={medians['now'][0]:.2f} "
          f"wall_ratio={medians['before'][0] / medians['now'][0]:.2f} "
          f"cpu_ratio={medians['before'][1] / medians['now'][1]:.2f} {label}={same}")


if __name__ == "__main__":
    main()
