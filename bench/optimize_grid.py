"""A 200-run grid of december_fade on the embedded daily sample, with 1 worker and with 2, in one run.

    python bench/optimize_grid.py

Prints the wall time of each sweep (validation, data, workers, every run, the
report), the time per run, and the ratio. Target: 2 workers at least 1.7x
faster than 1, and the 200-run grid well under a minute. The ratio depends
on two free cores: other load on the machine lowers it.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from loguru import logger

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runner.optimize.sweep import optimize, read_results  # noqa: E402

SWEEP = """\
name: bench
base: {base}
strategies: [december_fade]
parameters:
  strategies.december_fade.params.rally_pct: {{low: 0.75, high: 3.0, step: 0.25}}   # 10
  strategies.december_fade.params.drift_min_pct: {{low: 1.5, high: 3.5, step: 0.5}}  # 5
  strategies.december_fade.params.stop_atr: [1.0, 1.5, 2.0, 2.5]                    # 4
search: {{method: grid}}
objective: {{metric: total_return_pct, direction: maximize}}
constraints: [{{metric: trades, min: 2}}]
"""


def main() -> None:
    logger.remove()
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "bench.yaml"
        sweep.write_text(SWEEP.format(base=ROOT / "config" / "backtest.yaml"))
        times, best, load, inside = {}, {}, {}, {}
        for workers in (1, 2):
            load[workers] = os.getloadavg()[0]
            started = time.perf_counter()
            result = optimize(sweep, workers=workers, out=Path(tmp) / f"w{workers}", progress=False, summary=False)
            times[workers] = time.perf_counter() - started
            best[workers] = (result.best["run"], result.best["objective"])
            assert result.ran == 200, result.ran
            inside[workers] = sum(r["seconds"] for r in read_results(result.folder / "results.csv")) / 200
        print(f"cores: {os.cpu_count()}")
        for workers, seconds in times.items():
            print(f"200-run grid, {workers} worker(s): {seconds:6.1f} s  ({seconds / 200 * 1000:.0f} ms per run; "
                  f"a run inside a worker: {inside[workers] * 1000:.0f} ms; "
                  f"1-minute load average before: {load[workers]:.2f})")
        print(f"speed-up with 2 workers: {times[1] / times[2]:.2f}x (target >= 1.7x)")
        print(f"parallel efficiency: {inside[1] / inside[2] * 100:.0f}% of a run's single-worker speed per worker "
              f"(below 100% when other processes share the cores)")
        print(f"same best run with 1 and 2 workers: {best[1] == best[2]} (run {best[2][0]}, objective {best[2][1]})")


if __name__ == "__main__":
    main()
