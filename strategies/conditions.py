"""A playbook's entry conditions on a completed bar, each with its value, threshold and verdict.

A daily playbook writes its trigger once, as ``conditions(today)``: its ``decide``
enters only when every required condition is met, and the pressure monitor
(``flowbot pressure``) shows the same list to say which playbook would trigger
on a close and on which conditions it still waits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Condition:
    """One condition: ``required`` False for one of several alternatives (shown, not waited on)."""

    name: str
    ok: bool
    value: float | None = None
    threshold: str = ""
    required: bool = True
    note: str = ""           # how it reads in the log, e.g. "equity weight drifted +2.61 pts (...)"

    def as_dict(self) -> dict:
        value = None if self.value is None or not math.isfinite(self.value) else round(float(self.value), 4)
        return {"condition": self.name, "value": value, "threshold": self.threshold, "ok": bool(self.ok),
                "required": self.required, **({"note": self.note} if self.note else {})}


def waiting_on(conditions: list[Condition]) -> list[str]:
    """The required conditions not met (empty: the playbook enters)."""
    return [c.name for c in conditions if c.required and not c.ok]


def at_least(name: str, value: float | None, threshold: float, note: str = "", required: bool = True) -> Condition:
    """``value >= threshold``; an unknown value (None, NaN) is not met."""
    known = value is not None and math.isfinite(value)
    return Condition(name, known and value >= threshold, value, f">= {threshold:g}", required, note)


def at_most(name: str, value: float | None, threshold: float, note: str = "", required: bool = True) -> Condition:
    """``value <= threshold``; an unknown value (None, NaN) is not met."""
    known = value is not None and math.isfinite(value)
    return Condition(name, known and value <= threshold, value, f"<= {threshold:g}", required, note)
