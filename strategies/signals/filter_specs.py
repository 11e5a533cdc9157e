"""Filters any playbook can add to its entry conditions, from YAML: their schemas.

    params:
      filters:
        - {signal: rotation, long: IWM, short: SPY, sessions: 10, min_pct: 1.0}
        - {signal: drift, bonds: bonds, period: quarter, target: 0.6, min_pts: 1.0}
        - {signal: volume_spike, instruments: [SPY, QQQ, TLT], lookback: 6, min_ratio: 1.3}

A leg names the playbook's own instrument (its ``symbol``) or one of its extra
feeds by role (``feeds: {IWM: cache:IWM}``, ``feeds: {bonds: ...}``); an intraday
playbook's legs are all daily feeds (``strategies.signals.filter_feeds``). Every
filter must pass on the decision bar for an entry to be sent; each one's value
at the decision is written with the trade. A value that cannot be computed yet
(warm-up, data starting mid-period) does not pass.

This module holds what validating a config needs (the models and the helpers
that read unvalidated entries) and imports no indicator code, backtrader or
pandas; ``strategies.signals.filters`` binds a validated filter to its feeds.
"""
from __future__ import annotations

import math
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FilterSpec(BaseModel):
    """Base of the filter models: strict, plain numbers only."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @model_validator(mode="before")
    @classmethod
    def _plain_numbers(cls, value):
        # Lax validation reads true as 1 and lets NaN through: a threshold of 'yes' is a typo, not 1.
        if isinstance(value, dict):
            for name, given in value.items():
                field = cls.model_fields.get(name) if isinstance(name, str) else None
                if field is None or "bool" in str(field.annotation):
                    continue
                if isinstance(given, bool):
                    raise ValueError(f"{name}: expected a number, not {str(given).lower()} "
                                     f"(yes/no/on/off are true/false in YAML)")
                if isinstance(given, float) and not math.isfinite(given):
                    raise ValueError(f"{name}: expected a finite number (got {given})")
        return value

    def legs(self, instrument: str) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError


def _bounds(low: float | None, high: float | None, unit: str, low_key: str, high_key: str) -> None:
    if low is None and high is None:
        raise ValueError(f"give {low_key} or {high_key} (or both): the threshold{unit} the value must reach")
    if low is not None and high is not None and low > high:
        raise ValueError(f"{low_key} {low:g} is above {high_key} {high:g}: no value could pass")


class RotationFilter(FilterSpec):
    """Relative strength of ``long`` against ``short`` over ``sessions``, percent."""

    signal: Literal["rotation"]
    long: str = Field(description="the leg that should lead: the instrument or a feed role, e.g. IWM")
    short: str = Field(description="the leg it is measured against, e.g. SPY")
    sessions: int = Field(10, ge=1, le=250, description="look-back in sessions")
    min_pct: float | None = Field(None, ge=-100, le=100, description="pass when the relative strength is at least this")
    max_pct: float | None = Field(None, ge=-100, le=100, description="pass when it is at most this")

    @model_validator(mode="after")
    def _threshold(self) -> "RotationFilter":
        _bounds(self.min_pct, self.max_pct, "", "min_pct", "max_pct")
        return self

    def legs(self, instrument: str) -> list[str]:
        return [self.long, self.short]


class DriftFilter(FilterSpec):
    """Drift of a ``target`` equity mix over the period to date, percentage points."""

    signal: Literal["drift"]
    equity: str | None = Field(None, description="equity leg; null = the playbook's instrument")
    bonds: str = Field("bonds", description="bond leg: a feed role (default: the bonds feed)")
    period: Literal["year", "quarter", "month"] = Field("year", description="year, quarter or month to date")
    target: float = Field(0.6, gt=0, lt=1, description="target equity weight of the mix")
    min_pts: float | None = Field(None, ge=-100, le=100, description="pass when the drift is at least this")
    max_pts: float | None = Field(None, ge=-100, le=100, description="pass when it is at most this")

    @model_validator(mode="after")
    def _threshold(self) -> "DriftFilter":
        _bounds(self.min_pts, self.max_pts, "", "min_pts", "max_pts")
        return self

    def legs(self, instrument: str) -> list[str]:
        return [self.equity or instrument, self.bonds]


class VolumeSpikeFilter(FilterSpec):
    """Volume over its median on the same session from the month end of earlier months."""

    signal: Literal["volume_spike"]
    instruments: list[str] = Field(default_factory=list, description="legs to check; empty = the playbook's instrument")
    period: Literal["month", "quarter"] = Field("month", description="compare with earlier months or quarter ends")
    lookback: int = Field(6, ge=1, le=60, description="earlier months (or quarter ends) in the median")
    min_samples: int = Field(3, ge=1, le=60, description="fewest earlier sessions for a ratio")
    min_ratio: float = Field(1.3, gt=0, le=20, description="pass when volume / median is at least this")
    require: Literal["all", "any"] = Field("all", description="all instruments must spike, or any one")

    @model_validator(mode="after")
    def _samples(self) -> "VolumeSpikeFilter":
        if self.min_samples > self.lookback:
            raise ValueError(f"min_samples {self.min_samples} is above lookback {self.lookback}: never enough history")
        return self

    def legs(self, instrument: str) -> list[str]:
        return list(self.instruments) or [instrument]


SignalFilter = Annotated[Union[RotationFilter, DriftFilter, VolumeSpikeFilter], Field(discriminator="signal")]
FILTER_MODELS: dict[str, type[FilterSpec]] = {"rotation": RotationFilter, "drift": DriftFilter,
                                               "volume_spike": VolumeSpikeFilter}


# -- config helpers (the runner validates feeds against the legs) --------------

def raw_filter_legs(raw_filters, instrument: str) -> list[tuple[int, str, str]]:
    """(index, key, leg) of every leg named in unvalidated filter entries; malformed entries are skipped
    (the schema reports them)."""
    out = []
    if not isinstance(raw_filters, list):
        return out
    for i, entry in enumerate(raw_filters):
        if not isinstance(entry, dict):
            continue
        signal = entry.get("signal")
        if signal == "rotation":
            out += [(i, key, entry[key]) for key in ("long", "short") if isinstance(entry.get(key), str)]
        elif signal == "drift":
            out.append((i, "equity", entry.get("equity") or instrument))
            out.append((i, "bonds", entry.get("bonds") or "bonds"))
        elif signal == "volume_spike":
            legs = entry.get("instruments") or [instrument]
            out += [(i, "instruments", leg) for leg in legs if isinstance(leg, str)]
    return out


def raw_filters_readable(raw_filters) -> bool:
    """True when every entry names a known signal (so its legs can be read before validation)."""
    if raw_filters is None:
        return True
    return isinstance(raw_filters, list) and all(
        isinstance(entry, dict) and entry.get("signal") in FILTER_MODELS for entry in raw_filters)


def clean_filter_loc(loc: tuple) -> tuple:
    """A validation error's location without pydantic's union tag (``filters.0.rotation.x`` -> ``filters.0.x``)."""
    parts = list(loc)
    for i in range(len(parts) - 2):
        if parts[i] == "filters" and isinstance(parts[i + 1], int) and parts[i + 2] in FILTER_MODELS:
            del parts[i + 2]
            break
    return tuple(parts)


def filter_known_keys(raw_filters, loc: tuple) -> list[str] | None:
    """The keys a filter entry allows, when ``loc`` points into one (for 'did you mean')."""
    for i in range(len(loc) - 1):
        if loc[i] == "filters" and isinstance(loc[i + 1], int) and isinstance(raw_filters, list) \
                and loc[i + 1] < len(raw_filters) and isinstance(raw_filters[loc[i + 1]], dict):
            model = FILTER_MODELS.get(raw_filters[loc[i + 1]].get("signal"))
            return list(model.model_fields) if model else None
    return None
