"""A finished sweep's summary: one JSON-able record, saved as ``summary.json`` in the run folder, that
the terminal summary, ``flowbot optimize --json`` and ``flowbot show`` all print from, so a past
sweep reads as it did when it finished."""
from __future__ import annotations

import math

SUMMARY = "summary.json"
TOP = 5


def summary_data(plan, rows: list[dict], best: dict | None, result) -> dict:
    """Everything the summary shows: counts, the best runs, walk-forward (folds and summary, not the
    curves), the winner's trust figures, notes and provenance."""
    from runner.optimize.ranking import ranked_rows

    walk = result.walk_forward
    return _finite({
        "folder": str(result.folder), "kind": "optimize", "sweep": plan.sweep.name,
        "objective": plan.metric, "direction": plan.sweep.spec.objective.direction,
        "parameters": list(plan.param_columns),
        "total": result.total, "ran": result.ran, "resumed": result.resumed, "runs": len(rows),
        "feasible": sum(1 for r in rows if r.get("feasible")),
        "infeasible": sum(1 for r in rows if r.get("status") == "ok" and not r.get("feasible")),
        "errors": sum(1 for r in rows if r.get("status") != "ok"),
        "interrupted": result.interrupted,
        "best": best, "top": ranked_rows(plan, rows)[:TOP],
        "best_yaml": str(result.folder / "best.yaml") if best is not None else None,
        "walk_forward": None if not walk else {"folds": walk["folds"], "summary": walk["summary"]},
        "trust": result.trust, "notes": [*plan.sweep.notes, *result.notes], "provenance": result.provenance,
    })


def print_summary(data: dict, console=None) -> None:
    """The closing summary of a sweep (the terminal after ``flowbot optimize``, and ``flowbot show``)."""
    from rich.console import Console
    from rich.table import Table

    from runner.optimize.trust import trust_lines

    console = console or Console(highlight=False, soft_wrap=True, width=min(max(Console().width, 80), 120))
    trust = data.get("trust")
    on = f" on {trust['data']}" if trust else ""
    columns = data["parameters"]
    table = Table(title=f"flowbot optimize {data['sweep']}{on}: top runs by {data['objective']}")
    for column in ("run", *(c.split(".")[-1] for c in columns), "objective", "trades", "total return %", "max dd %"):
        table.add_column(column, justify="right")
    for row in data["top"]:
        table.add_row(str(row["run"]), *(number(row.get(c)) for c in columns), number(row["objective"]),
                      str(row.get("trades")), number(row.get("total_return_pct")), number(row.get("max_drawdown_pct")))
    console.print(table)
    console.print(f"{data['runs']} runs ({data['ran']} now, {data['resumed']} resumed), {data['infeasible']} "
                  f"failed the constraints, {data['errors']} errors")
    walk = data.get("walk_forward")
    if walk:
        s = walk["summary"]
        console.print(f"walk-forward{on}: in-sample mean {data['objective']} {number(s['is_mean'])}, out-of-sample "
                      f"stitched {number(s['oos_stitched'])} over {s['test_years']} (by playbook window year); "
                      f"OOS total return {number(s['oos_total_return_pct'])}%, {s.get('oos_trades')} OOS trades")
    if trust:
        for line in trust_lines(trust):
            console.print(line)
        for warning in trust["warnings"]:
            console.print(f"[yellow]{warning}[/yellow]")
    for note in data.get("notes") or []:
        console.print(f"[yellow]{note}[/yellow]")
    console.print(f"run folder: {data['folder']}" + (f"  (best.yaml ready: flowbot backtest -c {data['best_yaml']})"
                                                     if data.get("best_yaml") else ""))


def number(value) -> str:
    """4 significant digits for floats, "–" for none; others as they are."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _finite(value):
    """NaN and infinities as null (JSON has neither), numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
