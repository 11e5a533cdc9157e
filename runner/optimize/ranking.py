"""Ordering a sweep's finished runs by its objective.

Kept apart from the driver so the report and walk-forward can rank runs
without importing ``runner.optimize.sweep``.
"""
from __future__ import annotations


def ranked_rows(plan, rows: list[dict]) -> list[dict]:
    """Feasible runs, best first (ties: lower run id first). ``plan`` needs only ``maximize``."""
    ok = [r for r in rows if r.get("feasible") and r.get("objective") is not None]
    sign = -1 if plan.maximize else 1
    return sorted(ok, key=lambda r: (sign * r["objective"], r["run"]))
