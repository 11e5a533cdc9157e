"""``flowbot optimize``: run a sweep in parallel, resumably, and write its run folder.

The library entry point is :func:`optimize`; the CLI (runner/optimize/command.py)
only parses arguments. A sweep (runner/optimize/sweep_config.py) is validated before the
first run; runs go to a pool of local worker processes, or to an existing Dask
cluster, through the same small executor interface; every finished run is
appended to ``results.csv`` at once, so an interrupted sweep resumes from that
file without redoing finished runs. At the end: ``best.yaml`` (a complete
config that ``flowbot backtest -c`` runs as it is), walk-forward analysis, and
``report.html``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loguru import logger

from runner.config import resolved_yaml, validate_config
from runner.errors import ConfigError, UserInputError
from runner.data.load import load_run_bars
from runner.optimize.executors import make_executor
from runner.report.run_folder import create_run_folder, write_text
from runner.optimize.ranking import best_row, better, ranked_rows
from runner.optimize.results_file import ResultsFile, read_results  # noqa: F401  (read_results: public)
from runner.optimize.run_source import run_source
from runner.optimize.runs import remember_bars
from runner.optimize.sweep_config import METRICS, Sweep, load_sweep
from runner.optimize.sweep_state import STATE, changed_data, data_checksums, read_state

RESULTS = "results.csv"
#: More local workers than cores only slow a sweep down (and a typo like 1000 forks a thousand processes).
MAX_WORKERS = 64


@dataclass
class OptimizeResult:
    folder: Path
    total: int                       # runs in the sweep
    ran: int                         # runs executed by this call
    resumed: int                     # runs found finished in results.csv
    best: dict | None                # the best row, or None when no run met the constraints
    interrupted: bool = False
    walk_forward: dict | None = None
    notes: list[str] = field(default_factory=list)
    trust: dict | None = None        # the winner's data label, trades, trials searched, deflated Sharpe
    provenance: dict | None = None   # version, commit, command line, base config and sweep hashes, data checksums


# -- the plan ----------------------------------------------------------------

class Plan:
    """Columns, payload and objective of one sweep over one data set."""

    def __init__(self, sweep: Sweep, years: list[int]):
        spec = sweep.spec
        self.sweep = sweep
        self.metric = spec.objective.metric
        self.maximize = spec.objective.direction == "maximize"
        self.folds = spec.walk_forward.folds(years[0], years[-1]) if spec.walk_forward else []
        if spec.walk_forward and not self.folds:
            wf = spec.walk_forward
            raise ConfigError(f"{sweep.path}: walk_forward: the data covers {years[0]}-{years[-1]} "
                              f"({len(years)} years), too short for {wf.train_years} training + "
                              f"{wf.test_years} test year(s)")
        constraint_metrics = [c.metric for c in spec.walk_forward.constraints] if spec.walk_forward else []
        self.fold_metrics = {"train": list(dict.fromkeys([self.metric, *constraint_metrics])),
                             "test": list(dict.fromkeys([self.metric, "total_return_pct", "trades"]))}
        self.param_columns = [p.column for p in sweep.parameters]
        wf_columns = [f"wf.{f['label']}.{part}.{m}" for f in self.folds for part in ("train", "test")
                      for m in self.fold_metrics[part]]
        self.columns = ["run", "status", *self.param_columns, "objective", "feasible", *METRICS,
                        *(f"year.{y}" for y in years), *wf_columns, "seconds", "error"]
        self.payload = {
            "source": str(sweep.path),
            "base_raw": sweep.base_raw,
            "columns": {p.key: p.column for p in sweep.parameters},
            "metrics": list(METRICS),
            "folds": self.folds,
            "fold_metrics": self.fold_metrics,
        }
        identity = {k: v for k, v in self.payload.items() if k != "source"}
        identity["spec"] = spec.model_dump(mode="json", exclude={"name", "base"})
        self.fingerprint = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:16]
        self.payload["fingerprint"] = self.fingerprint

    def score(self, row: dict) -> dict:
        """Add ``objective`` and ``feasible`` (constraints hold) to a worker's row."""
        objective = row.get(self.metric) if row.get("status") == "ok" else None
        row["objective"] = objective
        row["feasible"] = objective is not None and all(c.holds(row.get(c.metric)) for c in self.sweep.spec.constraints)
        return row

    def values_of(self, row: dict) -> dict[str, Any]:
        return {p.key: row.get(p.column) for p in self.sweep.parameters}


# -- the sweep ---------------------------------------------------------------

def optimize(sweep_path: str | Path | None = None, *, workers: int | None = None, out: Path | None = None,
             executor: str = "local", scheduler: str | None = None, resume: Path | None = None,
             progress: bool = True, summary: bool = True, oversubscribe: bool = False,
             on_result: Callable[[dict], None] | None = None) -> OptimizeResult:
    """Run a sweep end to end and write its run folder; see the module docstring.

    ``progress``/``summary``: the progress bar and the closing table on the terminal.
    ``oversubscribe``: allow more local workers than cores (up to MAX_WORKERS).
    ``on_result`` is called with every finished row (tests use it to interrupt).
    """
    _check_executor(executor, workers, scheduler, oversubscribe)
    sweep_path = _sweep_path(sweep_path, resume)
    sweep = load_sweep(sweep_path)
    base_cfg = validate_config(sweep.base_raw, str(sweep.base_path))
    bars = load_run_bars(base_cfg)   # bad data fails here, before anything is written
    years = sorted({int(y) for frame in bars.values() for y in frame.index.year})
    plan = Plan(sweep, years)
    remember_bars(plan.fingerprint, base_cfg, bars)   # forked workers start with the data loaded
    checksums = data_checksums(base_cfg)   # of the files just read (and compared on --resume)
    folder = _run_folder(sweep, base_cfg, plan, out, resume, checksums)
    from runner.log_setup import _patch, add_run_log

    logger.configure(patcher=_patch, extra={"context": ""})   # as the CLI does, for library callers too
    sink = add_run_log(folder / "run.log", base_cfg.logging.file_level)
    try:
        results = ResultsFile(folder / RESULTS, plan.columns)
    except BaseException:
        logger.remove(sink)
        raise
    try:
        for note in sweep.notes:
            logger.warning(note)
        if results.dropped:
            logger.warning(f"{folder / RESULTS}: {results.dropped} line(s) cut short or damaged were dropped; "
                           f"their runs are run again")
        resumed = len(results.rows)
        total = sweep.spec.search.trials if sweep.spec.search.method != "grid" else len(sweep.grid())
        logger.info(f"optimize {sweep.name}: {total} runs ({sweep.spec.search.method}), objective "
                    f"{plan.metric} ({sweep.spec.objective.direction}), run folder {folder}"
                    + (f"; resuming with {resumed} finished" if resumed else ""))
        interrupted = False
        started = time.perf_counter()
        try:
            _drive(plan, results, total, executor, workers, scheduler, progress, on_result)
        except KeyboardInterrupt:
            interrupted = True
        ran = len(results.rows) - resumed
        seconds = time.perf_counter() - started
        logger.info(f"{ran} runs in {seconds:.1f} s" + (f" ({seconds / ran:.3f} s each)" if ran else ""))
        result = OptimizeResult(folder, total, ran, resumed, None, interrupted)
        if interrupted:
            logger.warning(f"interrupted: {len(results.rows)} of {total} runs are saved in {folder / RESULTS}; "
                           f"resume with: flowbot optimize -c {sweep.path} --resume {folder}")
            return result
        finish(plan, results.rows, base_cfg, bars, folder, result, summary, checksums)
        return result
    finally:
        results.close()
        logger.remove(sink)
        logger.enable("strategies")


_SCHEDULER = re.compile(r"^(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[^\]]+\]|[^\s:/\[\]]+):(?P<port>\d{1,5})$")


def _check_scheduler(address: str) -> None:
    """A Dask scheduler address that is malformed or has nobody listening fails here, before a run folder is
    made (dask.distributed's own client would wait, then leave a traceback when it is collected)."""
    import socket

    from runner.inputs import cut

    if address.startswith(("inproc://", "ucx://", "ws://", "wss://")):
        return   # in-process and other transports: dask.distributed checks those itself
    match = _SCHEDULER.match(address.strip())
    if match is None or not 0 < int(match["port"]) < 65536 or match["scheme"] not in (None, "tcp", "tls"):
        raise UserInputError(f"--scheduler {cut(address)}: expected tcp://HOST:PORT (or tls://, inproc://), e.g. "
                             f"tcp://10.0.0.5:8786")
    host = match["host"].strip("[]")
    try:
        with socket.create_connection((host, int(match["port"])), timeout=5):
            pass
    except OSError as exc:
        raise UserInputError(f"--scheduler {cut(address)}: cannot reach the Dask scheduler "
                             f"({exc.strerror or exc})") from None


def _check_executor(executor: str, workers: int | None, scheduler: str | None, oversubscribe: bool = False) -> None:
    """Argument problems fail before a run folder is created."""
    if executor not in ("local", "dask"):
        raise UserInputError(f"--executor {executor}: expected local or dask")
    if executor == "dask" and not scheduler:
        raise UserInputError("--executor dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
    if executor == "dask":
        _check_scheduler(scheduler)
    if workers is not None and workers < 1:
        raise UserInputError(f"--workers {workers}: expected at least 1")
    cores = os.cpu_count() or 1
    if executor == "local" and workers is not None and workers > cores:
        if not oversubscribe:
            raise UserInputError(f"--workers {workers}: this machine has {cores} cores; more workers than cores "
                                 f"only slow the sweep down (add --oversubscribe to insist, up to {MAX_WORKERS})")
        if workers > max(MAX_WORKERS, cores):
            raise UserInputError(f"--workers {workers}: at most {max(MAX_WORKERS, cores)} local workers")


def _sweep_path(sweep_path, resume: Path | None) -> Path:
    if resume is None:
        if sweep_path is None:
            raise UserInputError("optimize: give the sweep file with -c SWEEP.yaml")
        return Path(sweep_path)
    state = read_state(Path(resume))
    return Path(sweep_path) if sweep_path is not None else Path(state["sweep"])


def _run_folder(sweep: Sweep, base_cfg, plan: Plan, out: Path | None, resume: Path | None,
                checksums: dict[str, str]) -> Path:
    if resume is not None:
        folder = Path(resume)
        state = read_state(folder)
        if state["fingerprint"] != plan.fingerprint:
            raise UserInputError(f"--resume {folder}: the sweep {sweep.path} or its base config changed since "
                                 f"that run started, so its finished runs would not match; start a new sweep "
                                 f"(without --resume) or restore the files")
        changed = changed_data(state.get("data"), checksums)
        if changed:
            raise UserInputError(f"--resume {folder}: the data file {changed} changed (or appeared or went) since "
                                 f"that run started, so its finished runs would not match; start a new sweep "
                                 f"(without --resume) or restore the file")
        return folder
    folder = create_run_folder(base_cfg.output.folder, "optimize", sweep.name, out)
    write_text(folder / "sweep.yaml", sweep.path.read_text(encoding="utf-8"))
    write_text(folder / STATE, json.dumps({"sweep": str(sweep.path.resolve()), "fingerprint": plan.fingerprint,
                                           "folds": plan.folds, "data": checksums}, indent=2) + "\n")
    return folder


def _drive(plan: Plan, results: ResultsFile, total: int, executor_name: str, workers: int | None,
           scheduler: str | None, show_progress: bool, on_result) -> None:
    """Keep the executor busy until every run has a row."""
    source = run_source(plan, results)
    if source.remaining == 0:
        return
    executor = make_executor(executor_name, workers or os.cpu_count() or 1, scheduler, plan.payload)
    in_flight: dict[Any, tuple[int, dict]] = {}
    best = best_row(plan, results.rows)
    cancel = True
    try:
        def fill():
            while len(in_flight) < executor.capacity and source.has_more():
                run_id, values = source.next()
                in_flight[executor.submit(run_id, values)] = (run_id, values)

        fill()   # before the progress display starts its thread: local workers fork now
        with _Progress(show_progress, total, len(results.rows), plan.metric, plan.param_columns) as bar:
            bar.update(best)
            while in_flight:
                for future in executor.wait_any(list(in_flight)):
                    run_id, values = in_flight.pop(future)
                    row = plan.score(future.result())
                    results.append(row)
                    source.tell(row)
                    if row["status"] != "ok":
                        logger.warning(f"run {run_id} failed: {row['error']}")
                    if better(plan, row, best):
                        best = row
                    bar.advance(best)
                    if on_result is not None:
                        on_result(row)
                fill()
        cancel = False
    finally:
        executor.close(cancel=cancel)


class _Progress:
    """The sweep's one progress line (on stderr): bar, count and time left always fit, even at 80 columns;
    the best run so far takes what is left, rounded for people and cut short with an ellipsis."""

    def __init__(self, enabled: bool, total: int, done: int, metric: str, columns: list[str], console=None):
        self.enabled, self.total, self.done, self.metric, self.columns = enabled, total, done, metric, columns
        self._progress = None
        self._console = console

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
            from rich.table import Column

            best = Column(no_wrap=True, overflow="ellipsis")
            self._console = self._console or Console(stderr=True)
            self._progress = Progress(TextColumn("[bold]optimize"), BarColumn(bar_width=20), MofNCompleteColumn(),
                                      TimeRemainingColumn(compact=True), TextColumn("left"),
                                      TextColumn("{task.fields[best]}", table_column=best),
                                      console=self._console, transient=False)
            self._progress.__enter__()
            self._task = self._progress.add_task("runs", total=self.total, completed=self.done, best="")
        return self

    def update(self, best: dict | None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, best=self._best_text(best))

    def advance(self, best: dict | None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, best=self._best_text(best))

    def _best_text(self, best: dict | None) -> str:
        if best is None:
            return "best: none yet"
        params = " ".join(f"{c.split('.')[-1]}={_rounded(best.get(c))}" for c in self.columns)
        # The objective's name is in the log line that starts the sweep.
        text = f"best {_rounded(best['objective'])} (#{best['run']} {params})"
        # What the fixed columns leave: "optimize", the bar (20), N/N, the time (up to 7) and "left", 1 apart.
        room = self._console.width - (8 + 20 + 2 * len(str(self.total)) + 1 + 7 + 4 + 5) - 2
        return text if len(text) <= room else text[:max(room - 1, 0)] + "…"

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.__exit__(*exc)
        return False


def _rounded(value) -> str:
    """3 significant digits for floats (1.5, 0.612, 12.3, 1.23e+03 -> 1230), others as they are."""
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


# -- after the last run --------------------------------------------------------

def finish(plan: Plan, rows: list[dict], base_cfg, bars, folder: Path, result: OptimizeResult,
           summary: bool = True, checksums: dict[str, str] | None = None) -> None:
    """best.yaml, walk-forward, report.html, and the terminal summary."""
    from runner.optimize.report import write_report
    from runner.optimize.trust import winner_trust
    from runner.report.provenance import reproducibility
    from runner.optimize.walkforward import walk_forward

    logger.disable("strategies")   # the walk-forward re-runs log no trades
    best = best_row(plan, rows)
    result.best = best
    if best is None:
        note = ("no run met the constraints (" + "; ".join(c.describe() for c in plan.sweep.spec.constraints)
                + "): no best.yaml written") if plan.sweep.spec.constraints else "no run produced the objective"
        result.notes.append(note)
        logger.warning(note)
    if plan.folds:
        result.walk_forward = walk_forward(plan, rows, bars)
    result.trust = winner_trust(base_cfg, rows, best, result.walk_forward, bars)
    result.provenance = reproducibility(base_cfg, bars, "fast", known=checksums)
    result.provenance["sweep_sha256"] = hashlib.sha256(Path(plan.sweep.path).read_bytes()).hexdigest()
    if best is not None:
        write_text(folder / "best.yaml", best_yaml(plan, best, result.trust))
    write_report(folder / "report.html", plan, rows, best, result)
    from runner.optimize.summary import SUMMARY, print_summary, summary_data

    data = summary_data(plan, rows, best, result)   # what flowbot show prints again
    write_text(folder / SUMMARY, json.dumps(data, default=str, allow_nan=False, indent=1) + "\n")
    if summary:
        print_summary(data)


def best_yaml(plan: Plan, best: dict, trust: dict | None = None) -> str:
    """A complete run config with the best run's values, as ``flowbot backtest -c`` takes it; its
    header says how far it can be trusted (``trust``, runner.optimize.trust)."""
    from runner.optimize.trust import trust_lines

    sweep = plan.sweep
    raw = sweep.config_for(plan.values_of(best))
    raw["name"] = f"{sweep.name}-best"
    cfg = validate_config(raw, f"{sweep.path} (best run {best['run']})")
    header = [f"# Best run of the sweep {sweep.path} (run {best['run']}):",
              f"# {plan.metric} = {best['objective']} ({sweep.spec.objective.direction}), "
              f"{best.get('trades')} trades, total return {best.get('total_return_pct')}%",
              *(f"#   {p.key} = {best.get(p.column)!r}" for p in sweep.parameters),
              *(f"# {line}" for line in (trust_lines(trust) + trust["warnings"] if trust else [])),
              f"# Base config: {sweep.base_path}. Run it with: flowbot backtest -c best.yaml", ""]
    return "\n".join(header) + resolved_yaml(cfg)
