"""Strategy parameters are declared once, as a pydantic model.

The model gives defaults, valid ranges (``ge``/``le``/``gt``), a description and
the range a sweep should explore (``explore=(low, high)``); backtrader's
``params`` tuple is derived from it, so YAML, CLI overrides, sweeps and the
strategy cannot disagree.
"""
from __future__ import annotations

import datetime as dt
import math
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from strategies.signals.filter_specs import SignalFilter


def _admitted(annotation) -> set[type]:
    """The plain types a field annotation accepts (unions, Optional and Annotated unwrapped)."""
    if annotation is Any:
        return {object}
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return {type(v) for v in typing.get_args(annotation)}
    if origin is not None and origin is not typing.Union and not _is_union(origin):
        return {origin} if isinstance(origin, type) else {object}
    args = typing.get_args(annotation)
    if args:
        return set().union(*(_admitted(a) for a in args))
    return {annotation} if isinstance(annotation, type) else {object}


def _is_union(origin) -> bool:
    import types

    return origin is types.UnionType


class PlainInputModel(BaseModel):
    """A model that refuses what lax validation would quietly convert.

    ``true``/``yes`` are not numbers, an integer is not a date (an epoch), and
    inf/NaN are not numbers a run can use: each is refused with the expected
    type instead of becoming 1.0, 2009-01-01 or an overflow deep in a run.
    """

    @field_validator("*", mode="before")
    @classmethod
    def _plain_values(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name) if info.field_name else None
        if field is None:
            return value
        kinds = _admitted(field.annotation)
        if object in kinds:
            return value
        numeric = bool(kinds & {int, float})
        dated = bool(kinds & {dt.date, dt.datetime})
        if isinstance(value, bool):
            if bool not in kinds:
                expected = "a number" if numeric else "a date like 2018-12-31" if dated else "text"
                raise ValueError(f"expected {expected}, not {str(value).lower()} (yes/no/on/off are true/false in YAML)")
            return value
        if isinstance(value, (int, float)) and dated and not numeric:
            raise ValueError(f"expected a date like 2018-12-31 (got the number {value!r}; write the date itself)")
        if numeric and not kinds & {str}:
            number = value
            if isinstance(value, str):
                try:
                    number = float(value.strip())
                except ValueError:
                    return value
            if isinstance(number, float) and not math.isfinite(number):
                raise ValueError(f"expected a finite number (got {value!r})")
        return value


class PlaybookParams(PlainInputModel):
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
