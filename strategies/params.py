"""Strategy parameters are declared once, as a pydantic model.

The model gives defaults, valid ranges (``ge``/``le``/``gt``), a description and
the range a sweep should explore (``explore=(low, high)``); backtrader's
``params`` tuple is derived from it, so YAML, CLI overrides, sweeps and the
strategy cannot disagree.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from strategies.signals.filters import SignalFilter


class PlaybookParams(BaseModel):
    """Base of every playbook's parameter model: strict, unknown keys forbidden."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def param(default: Any, description: str, *, explore: tuple[float, float] | None = None, **constraints: Any):
    """A parameter field: default, description, constraints, and the range a sweep should explore."""
    extra = {"explore": list(explore)} if explore is not None else None
    return Field(default, description=description, json_schema_extra=extra, **constraints)


def backtrader_params(model: type[BaseModel]) -> tuple[tuple[str, Any], ...]:
    """The backtrader ``params`` tuple for a parameter model (name, default)."""
    return tuple((name, field.default) for name, field in model.model_fields.items())


def explore_range(model: type[BaseModel], name: str) -> tuple[float, float] | None:
    """The sweep range declared for a parameter, if any."""
    extra = model.model_fields[name].json_schema_extra or {}
    rng = extra.get("explore") if isinstance(extra, dict) else None
    return (rng[0], rng[1]) if rng else None


class DailyPlaybookParams(PlaybookParams):
    """Parameters every daily playbook shares: sizing, ATR, trailing stop."""

    atr_period: int = param(14, "ATR look-back in sessions", ge=2, le=100)
    risk_pct: float = param(0.5, "equity at risk per trade, percent (risk over the stop distance)",
                            explore=(0.25, 1.0), gt=0, le=5)
    max_position_pct: float = param(100.0, "cap on position value, percent of equity", gt=0, le=400)
    trail_atr: float | None = param(None, "trailing stop distance in ATRs once in profit; null = off",
                                    explore=(0.5, 2.0), gt=0, le=10)
    trail_after_atr: float = param(1.0, "gain in ATRs that arms the trailing stop", ge=0, le=10)
    filters: list[SignalFilter] = param([], "extra entry conditions from strategies.signals (rotation, drift, "
                                        "volume_spike); each must pass on the decision bar")
