"""Ordering a sweep's finished runs by its objective: the one definition of "best".

Kept apart from the driver so the report and walk-forward can rank runs
without importing ``runner.optimize.sweep``. Ties go to the lower run id, so
the best run does not depend on which worker finished first.
"""
from __future__ import annotations


def rankable(row: dict) -> bool:
    """A feasible run with an objective value."""
    return bool(row.get("feasible")) and row.get("objective") is not None


def rank_key(plan, row: dict) -> tuple:
    """Sort key, best first. ``plan`` needs only ``maximize``."""
    return (-row["objective"] if plan.maximize else row["objective"], row["run"])


def ranked_rows(plan, rows: list[dict]) -> list[dict]:
    """Feasible runs, best first (ties: lower run id first)."""
    return sorted((r for r in rows if rankable(r)), key=lambda r: rank_key(plan, r))


def best_row(plan, rows: list[dict]) -> dict | None:
    ranked = ranked_rows(plan, rows)
    return ranked[0] if ranked else None


def better(plan, row: dict, best: dict | None) -> bool:
    """Whether ``row`` ranks before ``best`` (for keeping the best while rows arrive)."""
    return rankable(row) and (best is None or rank_key(plan, row) < rank_key(plan, best))
