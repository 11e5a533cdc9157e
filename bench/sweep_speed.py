"""Benchmark: the 200-run december_fade grid (bench/optimize_grid.py's) on 1 and 2 workers, results checked.

    python bench/sweep_speed.py [--check 12]      # from the repository root

Runs the grid, in one run (wall time of each whole sweep: validation, data,
workers, every run, the sweep report):

* ``before``: one worker with the session spans of the exposure figure built
  afresh for every run, as before they were remembered (workers are forked,
  so the parent's switch reaches them);
* one worker, then two, as shipped;

and checks that

* both sweeps wrote the same results (every column but each run's seconds);
* ``--check`` runs picked across the grid give, through ``run_backtest`` (what
  ``flowbot backtest`` runs, every output built the plain way), the sweep's
  total return, trades, Sharpe, drawdown and exposure.

Reference (issue 13): 44.6 s on one worker before this work; targets: one
worker at least 4x faster (<= 11.2 s), two workers >= 1.7x one. Last line:
``before_s=<x> one_s=<a> two_s=<b> one_vs_before=<x/a> two_vs_one=<a/b> identical=<True|False>``.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from loguru import logger

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from optimize_grid import SWEEP  # noqa: E402

from runner.optimize.sweep import optimize, read_results  # noqa: E402

BEFORE_S = 44.6
CHECKED = ("total_return_pct", "trades", "sharpe", "max_drawdown_pct", "exposure_pct")


def through_backtest(base: Path, row: dict) -> dict:
    """The same point run the way ``flowbot backtest`` runs it."""
    from runner.backtest.run import run_backtest
    from runner.config import load_config

    column = lambda name: next(k for k in row if k == name or k.endswith("." + name))   # noqa: E731
    overrides = [f"strategies.december_fade.params.{name}={row[column(name)]}"
                 for name in ("rally_pct", "drift_min_pct", "stop_atr")]
    cfg = load_config(base, overrides)
    cfg = cfg.model_copy(update={"strategies": [s for s in cfg.strategies if s.name == "december_fade"]})
    return run_backtest(cfg).metrics


def _cpu() -> tuple[float, float]:
    """(this process's, its ended children's) user + system CPU seconds: the workers' CPU over the sweep's
    wall time says whether they ran side by side (2 with two free cores) and whether a worker repeats work."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", type=int, default=12, help="runs re-run through run_backtest and compared")
    args = parser.parse_args()
    logger.remove()
    base = ROOT / "config" / "backtest.yaml"
    from runner.report import metrics as figures

    remembered = figures._session_spans

    def afresh(times):
        figures._spans.clear()
        return remembered(times)

    times, rows = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "bench.yaml"
        sweep.write_text(SWEEP.format(base=base))
        for label, workers in (("before", 1), (1, 1), (2, 2)):
            figures._session_spans = afresh if label == "before" else remembered
            load = os.getloadavg()[0]
            before_cpu = _cpu()
            started = time.perf_counter()
            result = optimize(sweep, workers=workers, out=Path(tmp) / f"w{label}", progress=False, summary=False)
            times[label] = time.perf_counter() - started
            parent_cpu, workers_cpu = (a - b for a, b in zip(_cpu(), before_cpu))
            rows[label] = sorted(read_results(result.folder / "results.csv"), key=lambda r: r["run"])
            print(f"{label} ({workers} worker{'s' if workers > 1 else ''}): {times[label]:.1f} s for {result.ran} "
                  f"runs ({times[label] / max(result.ran, 1) * 1000:.0f} ms a run; 1-minute load average before: "
                  f"{load:.2f}); CPU: workers {workers_cpu:.1f} s ({workers_cpu / times[label]:.2f} cores busy "
                  f"on average), this process {parent_cpu:.1f} s")
        figures._session_spans = remembered
    strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}   # noqa: E731
    same_workers = ([strip(r) for r in rows[1]] == [strip(r) for r in rows[2]]
                    == [strip(r) for r in rows["before"]])
    picked = rows[1][:: max(1, len(rows[1]) // max(args.check, 1))][: args.check]
    mismatches = []
    for row in picked:
        metrics = through_backtest(base, row)
        for name in CHECKED:
            if metrics.get(name) != row.get(name):
                mismatches.append((row["run"], name, row.get(name), metrics.get(name)))
    print(f"same results before, with 1 and with 2 workers: {same_workers}; "
          f"{len(picked)} runs re-run through run_backtest: "
          f"{'all equal' if not mismatches else mismatches[:3]}")
    identical = same_workers and not mismatches
    print(f"one worker {times['before'] / times[1]:.2f}x before in this run, {BEFORE_S / times[1]:.2f}x the "
          f"{BEFORE_S} s of issue 13 (target >= 4x); two workers {times[1] / times[2]:.2f}x one (target >= 1.7x; "
          f"needs two free cores)")
    print(f"before_s={times['before']:.2f} one_s={times[1]:.2f} two_s={times[2]:.2f} "
          f"one_vs_before={times['before'] / times[1]:.2f} two_vs_one={times[1] / times[2]:.2f} identical={identical}")


if __name__ == "__main__":
    main()
