"""Benchmark: the 200-run december_fade grid through ``flowbot optimize --workers 1`` on this tree and on an
earlier commit, interleaved in one run.

    python bench/sweep_against_commit.py da2aabd~1 [--rounds 2]      # from the repository root

Issue 13's sweep goal is "at least 4x faster than today (44.6 s measured)". 44.6 s was measured on another
machine; this script measures the tree the issue was filed against (``da2aabd~1``, before the layout move and
this work) and this tree side by side on the same machine, each round one whole ``flowbot optimize`` process
per tree (validation, data, the 200 runs, the sweep report), so the ratio does not depend on the machine.

The grid is bench/optimize_grid.py's (10 x 5 x 4 values). Each tree gets the sweep file with its own
``config/backtest.yaml`` as the base. The script then compares, run by run, the figures both trees' results.csv
have (total return, trades, Sharpe, drawdown, exposure where both name them) and prints how many of the 200 runs
agree; figures an honest fix changed since that commit are listed, not hidden. Last line:
``before_s=<a> now_s=<b> wall_ratio=<a/b> cpu_ratio=<c> runs_equal=<k>/<n>``.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import sys
import tempfile
from pathlib import Path

from optimize_grid import SWEEP
from process_timing import ROOT, measure, tree_at, warm_up

FIGURES = ("total_return_pct", "trades", "sharpe", "max_drawdown_pct", "exposure_pct")


def command(tree: Path, sweep: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "runner", "optimize", "-c", str(sweep), "--workers", "1", "--out", str(out),
            "--no-progress"]


def runs(out: Path) -> dict[tuple, dict[str, str]]:
    """results.csv's rows keyed by the run's parameter values (column names differ between the trees)."""
    with (out / "results.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    keyed = {}
    for row in rows:
        params = tuple(sorted((name.rsplit(".", 1)[-1], float(value)) for name, value in row.items()
                              if name.rsplit(".", 1)[-1] in ("rally_pct", "drift_min_pct", "stop_atr")))
        keyed[params] = row
    return keyed


def same(a: str | None, b: str | None) -> bool:
    if a in (None, "") or b in (None, ""):
        return a in (None, "") and b in (None, "")
    try:
        x, y = float(a), float(b)
    except ValueError:
        return a == b
    return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit")
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    results: dict[str, list[tuple[float, float, float]]] = {"before": [], "now": []}
    with tempfile.TemporaryDirectory() as tmp:
        before = tree_at(options.commit, Path(tmp) / "before")
        trees = {"before": before, "now": ROOT}
        sweeps = {}
        for name, tree in trees.items():
            sweeps[name] = Path(tmp) / f"sweep-{name}.yaml"
            sweeps[name].write_text(SWEEP.format(base=tree / "config" / "backtest.yaml"))
            warm_up(command(tree, sweeps[name], Path(tmp) / f"warm-up-{name}"), cwd=tree)
        for r in range(options.rounds):
            for name, tree in trees.items():
                results[name].append(measure(command(tree, sweeps[name], Path(tmp) / f"{name}-{r}"), cwd=tree))
            print(f"round {r + 1}: before {results['before'][-1][0]:.1f} s, now {results['now'][-1][0]:.1f} s "
                  f"(1-minute load average: {os.getloadavg()[0]:.2f})", flush=True)
        old, new = runs(Path(tmp) / "before-0"), runs(Path(tmp) / "now-0")
        equal, differing = 0, {}
        for key, row in new.items():
            shared = [f for f in FIGURES if f in row and key in old and f in old[key]]
            bad = [f for f in shared if not same(old[key][f], row[f])]
            if key in old and shared and not bad:
                equal += 1
            for f in bad:
                differing[f] = differing.get(f, 0) + 1
    medians = {name: [statistics.median(row[i] for row in rows) for i in range(3)] for name, rows in results.items()}
    for name, (wall, cpu, mb) in medians.items():
        print(f"{name:6}: {wall:.1f} s whole process, {cpu:.1f} s CPU, peak {mb:.0f} MB")
    print(f"200-run december_fade grid, 1 worker, at {options.commit} and now; median of {options.rounds} rounds")
    print(f"runs with every shared figure equal: {equal} of {len(new)}"
          + (f"; differing figures (runs): {differing}" if differing else ""))
    print(f"before_s={medians['before'][0]:.1f} now_s={medians['now'][0]:.1f} "
          f"wall_ratio={medians['before'][0] / medians['now'][0]:.2f} "
          f"cpu_ratio={medians['before'][1] / medians['now'][1]:.2f} runs_equal={equal}/{len(new)}")


if __name__ == "__main__":
    main()
