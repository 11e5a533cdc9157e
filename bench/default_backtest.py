"""Benchmark: what a user waits for at the prompt, each command its own process, interleaved.

    python bench/default_backtest.py [--rounds 5]      # from the repository root

Runs, round after round (so the machine's load falls on all of them alike):

    flowbot --help
    flowbot backtest --out DIR                            # the default run: three playbooks, report included
    flowbot backtest --set output.report=false --out DIR  # the same run without report.html

after one untimed warm-up run of each (children run without ``PYTHONDONTWRITEBYTECODE``, so the
warm-up writes flowbot's ``__pycache__`` and the timed runs load cached bytecode, as a user's do;
see process_timing), and prints the median wall time (whole process: start-up, imports, data, run,
every output file) and peak memory of each, the report's share (the
difference of the two backtests), and whether every run wrote the same
trades and metrics. Targets (issue 13): ``--help`` under 0.3 s, the default
backtest under 1.5 s. Last line: ``help_s=<a> backtest_s=<b>
no_report_s=<c> identical_outputs=<True|False>``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from process_timing import flowbot, warm_up
from process_timing import timed as timed_process


def timed(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak MB) of one ``flowbot`` process."""
    return timed_process([*flowbot(), *args])


RUN_SPECIFIC = {"command_line", "config_sha256"}   # keys naming this run and its config, not results


def outputs(folder: Path) -> tuple[str, dict]:
    """What must not change with speed: the trades and the metrics (without what names the run)."""
    def results(value):
        if isinstance(value, dict):
            return {k: results(v) for k, v in value.items() if k not in RUN_SPECIFIC}
        return [results(v) for v in value] if isinstance(value, list) else value

    return (folder / "trades.csv").read_text(), results(json.loads((folder / "metrics.json").read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cases = {"help": lambda out: ["--help"],
             "backtest": lambda out: ["backtest", "--out", str(out)],
             "no_report": lambda out: ["backtest", "--set", "output.report=false", "--out", str(out)]}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    seen = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, argv in cases.items():   # untimed: writes the bytecode cache the timed runs read
            warm_up([*flowbot(), *argv(Path(tmp) / f"warm-up-{name}")])
        for r in range(args.rounds):
            load = os.getloadavg()[0]
            line = []
            for name, argv in cases.items():
                out = Path(tmp) / f"{name}-{r}"
                results[name].append(timed(argv(out)))
                if name != "help":
                    seen.append(outputs(out))
                    if name == "backtest" and not (out / "report.html").exists():
                        sys.exit("the default backtest wrote no report.html")
                line.append(f"{name} {results[name][-1][0]:.2f} s")
            print(f"round {r + 1}: " + ", ".join(line) + f" (1-minute load average before: {load:.2f})")
    identical = all(s == seen[0] for s in seen)
    medians = {name: (statistics.median(s for s, _ in rows), statistics.median(m for _, m in rows))
               for name, rows in results.items()}
    for name, (seconds, mb) in medians.items():
        print(f"{name:10}: median {seconds:.2f} s whole process, peak {mb:.0f} MB")
    print(f"report.html's share: {medians['backtest'][0] - medians['no_report'][0]:.2f} s; "
          f"median of {args.rounds} rounds on {os.cpu_count()} cores; same trades and metrics in every run: "
          f"{identical}")
    print(f"help_s={medians['help'][0]:.2f} backtest_s={medians['backtest'][0]:.2f} "
          f"no_report_s={medians['no_report'][0]:.2f} identical_outputs={identical}")


if __name__ == "__main__":
    main()
