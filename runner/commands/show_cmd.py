"""``flowbot show RUN``: a past run's summary again, from its run folder."""
from __future__ import annotations

import sys
from pathlib import Path


def register(commands, add_set) -> None:
    from runner.commands.output import add_json

    parser = commands.add_parser("show", help="print a past run's summary again (backtest, paper, optimize)")
    parser.add_argument("run", metavar="RUN", nargs="?", default="latest",
                        help="run folder, its name under --runs, a unique part of it, or latest (default)")
    parser.add_argument("--runs", type=Path, default=Path("logs"), metavar="DIR",
                        help="where run folders are (default: logs)")
    add_json(parser, "the run's figures (metrics.json, or the sweep's best runs)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from runner.commands.output import print_json, quiet, wants_json
    from runner.commands.past_runs import find_run, read_run

    past = read_run(find_run(args.run, args.runs))
    if past.kind == "optimize":
        saved = _saved_summary(past.folder)
        summary = saved or _guarded(lambda: optimize_summary(past), past.folder / "results.csv")
        if wants_json(args):
            print_json(summary)
        elif quiet(args):
            print(past.folder)
        elif saved:
            from runner.optimize.summary import print_summary

            _print_whole(lambda: print_summary(saved), past.folder / "summary.json")   # as the sweep printed it
        else:
            _print_whole(lambda: _print_optimize(summary), past.folder / "results.csv")
        return 0
    if wants_json(args):
        print_json({"folder": str(past.folder), "kind": past.kind, **past.metrics})
    elif quiet(args):
        print(past.folder)
    else:
        _print_backtest(past)
    return 0


def _print_backtest(past) -> None:
    import types

    import pandas as pd

    from runner.backtest.run import BacktestResult
    from runner.errors import ConfigError
    from runner.report.summary import print_backtest_summary, run_notes

    if not isinstance(past.metrics.get("playbooks"), dict):
        from runner.errors import UserInputError

        raise UserInputError(f"{past.folder / 'metrics.json'}: written by an older flowbot (no per-playbook figures); "
                             f"flowbot show {past.folder} --json prints what it holds")
    tables = {}
    for name in ("trades", "orders", "equity"):
        path = past.folder / f"{name}.csv"
        try:
            tables[name] = pd.read_csv(path) if path.is_file() and path.stat().st_size else pd.DataFrame()
        except pd.errors.EmptyDataError:
            tables[name] = pd.DataFrame()
    result = BacktestResult(past.metrics, tables["trades"], tables["orders"], tables["equity"])
    try:
        from runner.config import validate_config

        cfg = validate_config(past.config, str(past.folder / "config.resolved.yaml"))
    except ConfigError:   # e.g. your own playbook has moved since: the figures are still there
        cash = next((f["performance"].get("start_value") for f in past.metrics["playbooks"].values()
                     if isinstance(f, dict) and isinstance(f.get("performance"), dict)), 0)
        cfg = types.SimpleNamespace(name=past.metrics.get("run", past.name), active_strategies=lambda: [],
                                    broker=types.SimpleNamespace(cash=cash or 0))
    _print_whole(lambda: print_backtest_summary(cfg, result, past.folder,
                                                past.metrics.get("notes") or (run_notes(cfg) if cfg.active_strategies() else [])),
                 past.folder / "metrics.json")


def _guarded(make, source: Path):
    """``make()``, or one message naming ``source`` when what it reads is not what flowbot writes."""
    from loguru import logger

    from runner.errors import UserInputError

    try:
        return make()
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        logger.opt(exception=exc).debug(f"{source}: cannot read its figures")
        raise UserInputError(f"{source}: the figures are not what flowbot writes ({type(exc).__name__}: "
                             f"{exc}); the run folder is damaged or was written by another version") from None


def _print_whole(printer, source: Path) -> None:
    """Run ``printer`` into a buffer and print what it printed: all of it, or, when the figures it reads from
    ``source`` are not what flowbot writes (a value of another type, a section missing), nothing and one
    message naming the file."""
    import contextlib
    import io

    from loguru import logger

    from runner.errors import UserInputError

    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            printer()
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        logger.opt(exception=exc).debug(f"{source}: cannot print its figures")
        raise UserInputError(f"{source}: the figures are not what flowbot writes ({type(exc).__name__}: "
                             f"{exc}); the run folder is damaged or was written by another version: "
                             f"flowbot show {source.parent} --json prints what it holds") from None
    sys.stdout.write(buffer.getvalue())


def _saved_summary(folder: Path) -> dict | None:
    """The sweep's summary.json (written when it finished), or None for an older or unfinished sweep."""
    from runner.optimize.summary import SUMMARY

    from runner.config_files import read_json_file
    from runner.errors import UserInputError

    path = folder / SUMMARY
    try:
        data = read_json_file(path, "sweep summary") if path.is_file() else None
    except UserInputError:   # damaged: the summary is made again from results.csv
        return None
    if not isinstance(data, dict) or data.get("kind") != "optimize":
        return None
    data["folder"] = str(folder)   # where it is now, as the user named it
    data["best_yaml"] = str(folder / "best.yaml") if (folder / "best.yaml").is_file() else None
    return data


def optimize_summary(past, top: int = 5) -> dict:
    """For sweeps without summary.json (older, or interrupted): the sweep's objective, its run counts and its best runs, from results.csv and sweep.yaml."""
    from runner.errors import UserInputError
    from runner.optimize.results_file import read_results

    folder = past.folder
    rows = read_results(folder / "results.csv") if (folder / "results.csv").is_file() else []
    spec = {}
    if (folder / "sweep.yaml").is_file():
        from runner.config_files import read_yaml
        from runner.errors import ConfigError

        try:
            spec = read_yaml(folder / "sweep.yaml", "sweep file")[0]
        except ConfigError as exc:
            raise UserInputError(f"{exc}; the run folder is damaged") from None
    objective = (spec or {}).get("objective") or {}
    maximize = objective.get("direction", "maximize") == "maximize"
    ok = [r for r in rows if r.get("feasible") and r.get("objective") is not None]
    ok.sort(key=lambda r: ((-1 if maximize else 1) * r["objective"], r["run"]))
    columns = list(rows[0]) if rows else []
    params = columns[columns.index("status") + 1:columns.index("objective")] if "objective" in columns else []
    return {"folder": str(folder), "kind": "optimize", "sweep": (spec or {}).get("name"),
            "objective": objective.get("metric"), "direction": objective.get("direction", "maximize"),
            "runs": len(rows), "errors": sum(1 for r in rows if r.get("status") != "ok"),
            "feasible": len(ok), "parameters": params, "best": ok[0] if ok else None, "top": ok[:top],
            "best_yaml": str(folder / "best.yaml") if (folder / "best.yaml").is_file() else None}


def _print_optimize(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from runner.commands.compare_cmd import figure

    console = Console(highlight=False, soft_wrap=True, width=min(max(Console().width, 80), 100))
    table = Table(title=f"flowbot optimize {summary['sweep']}: top runs by {summary['objective']}")
    for column in ("run", *(c.split(".")[-1] for c in summary["parameters"]), "objective", "trades", "return %",
                   "max dd %"):
        table.add_column(column, justify="right")
    for row in summary["top"]:
        table.add_row(str(row["run"]), *(figure(row.get(c)) for c in summary["parameters"]), figure(row["objective"]),
                      figure(row.get("trades")), figure(row.get("total_return_pct")), figure(row.get("max_drawdown_pct")))
    console.print(table)
    console.print(f"{summary['runs']} runs, {summary['feasible']} met the constraints, {summary['errors']} errors")
    console.print(f"run folder: {summary['folder']}"
                  + (f"  (best.yaml: flowbot backtest -c {summary['best_yaml']})" if summary["best_yaml"] else ""))
