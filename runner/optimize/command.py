"""``flowbot optimize``: the subcommand's arguments; the work is in runner/optimize/sweep.py."""
from __future__ import annotations

from pathlib import Path

from runner.errors import UserInputError


def register(commands, add_set) -> None:
    parser = commands.add_parser("optimize", help="tune parameters: a sweep (grid, random, optuna), optionally "
                                                  "walk-forward; writes results.csv, best.yaml, report.html")
    parser.add_argument("-c", "--config", type=Path, metavar="SWEEP.yaml",
                        help="sweep file (see config/sweeps/); optional with --resume")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes (default: all cores; more than the cores needs --oversubscribe)")
    parser.add_argument("--oversubscribe", action="store_true",
                        help="allow more --workers than this machine has cores (at most 64)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="run folder (new or empty)")
    parser.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="local worker processes (default) or an existing Dask cluster")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--resume", type=Path, metavar="DIR",
                        help="continue an interrupted sweep in its run folder; finished runs are not redone")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true",
                        help="print the result (run folder, counts, best and top runs, walk-forward folds, trust "
                             "figures; the run folder's summary.json) as one JSON object on stdout; logs go to stderr")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from runner.optimize.sweep import optimize

    if args.resume is not None and args.out is not None:
        raise UserInputError("optimize: --resume continues in its own folder; drop --out")
    if args.config is None and args.resume is None:
        raise UserInputError("optimize: give the sweep file with -c SWEEP.yaml (or --resume DIR)")
    if args.scheduler and args.executor != "dask":
        raise UserInputError("optimize: --scheduler needs --executor dask")
    quiet, as_json = getattr(args, "quiet", False), getattr(args, "json", False)
    result = optimize(args.config, workers=args.workers, out=args.out, executor=args.executor,
                      scheduler=args.scheduler, resume=args.resume,
                      progress=not (args.no_progress or quiet or as_json), summary=not (quiet or as_json),
                      oversubscribe=args.oversubscribe)
    if result.interrupted:
        raise KeyboardInterrupt
    if as_json:
        import json
        import sys

        from runner.optimize.summary import SUMMARY

        # The record the terminal summary and flowbot show print from (no equity curves: see report.html).
        sys.stdout.write(json.dumps(json.loads((result.folder / SUMMARY).read_text(encoding="utf-8")),
                                    allow_nan=False) + "\n")
    elif quiet:
        print(result.folder)
    return 0
