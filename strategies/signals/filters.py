"""Filters any playbook can add to its entry conditions, from YAML.

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
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from strategies.conditions import Condition
from strategies.signals.indicators import PeriodDrift, RelativeStrength, SameSessionVolume


class _FilterBase(BaseModel):
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


class RotationFilter(_FilterBase):
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


class DriftFilter(_FilterBase):
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


class VolumeSpikeFilter(_FilterBase):
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
FILTER_MODELS: dict[str, type[_FilterBase]] = {"rotation": RotationFilter, "drift": DriftFilter,
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


# -- in the strategy -----------------------------------------------------------

class FilterCheck:
    """One filter bound to its feeds: its value on the current bar, and whether it passes."""

    def __init__(self, spec: _FilterBase, resolve: Callable[[str], object], instrument: str):
        self.spec = spec
        legs = [resolve(name) for name in spec.legs(instrument)]
        self.feeds = legs
        self.leg_names = spec.legs(instrument)
        if isinstance(spec, RotationFilter):
            self.indicators = [RelativeStrength(legs[0], legs[1], sessions=spec.sessions)]
        elif isinstance(spec, DriftFilter):
            self.indicators = [PeriodDrift(legs[0], legs[1], period=spec.period, target=spec.target)]
        else:
            self.indicators = [SameSessionVolume(leg, lookback=spec.lookback, period=spec.period,
                                                 min_samples=spec.min_samples) for leg in legs]

    def values(self) -> list[float]:
        if any(not len(feed) for feed in self.feeds):   # a leg with no bar yet (a daily leg on the first session)
            return [math.nan] * (len(self.indicators) if isinstance(self.spec, VolumeSpikeFilter) else 1)
        if isinstance(self.spec, DriftFilter):
            return [float(self.indicators[0].drift[0])]
        line = "rs" if isinstance(self.spec, RotationFilter) else "ratio"
        return [float(getattr(ind.lines, line)[0]) for ind in self.indicators]

    def passes(self) -> bool:
        return evaluate(self.spec, self.values())

    def describe(self) -> str:
        return describe(self.spec, self.leg_names, self.values())

    def condition(self) -> Condition:
        """The filter as one of the playbook's entry conditions (value: the one value, if one)."""
        values = self.values()
        return Condition(f"filter {self.spec.signal}", evaluate(self.spec, values),
                         values[0] if len(values) == 1 else None, describe(self.spec, self.leg_names, values))


def evaluate(spec: _FilterBase, values: list[float]) -> bool:
    """Whether ``values`` (one per leg for volume spikes, else one) pass ``spec``; NaN never passes."""
    def within(value, low, high):
        return math.isfinite(value) and (low is None or value >= low) and (high is None or value <= high)

    if isinstance(spec, RotationFilter):
        return within(values[0], spec.min_pct, spec.max_pct)
    if isinstance(spec, DriftFilter):
        return within(values[0], spec.min_pts, spec.max_pts)
    hits = [within(v, spec.min_ratio, None) for v in values]
    return all(hits) if spec.require == "all" else any(hits)


def threshold_text(spec: _FilterBase) -> str:
    if isinstance(spec, VolumeSpikeFilter):
        return f">= {spec.min_ratio:g}x ({spec.require})"
    low, high = (spec.min_pct, spec.max_pct) if isinstance(spec, RotationFilter) else (spec.min_pts, spec.max_pts)
    return " and ".join(x for x in ((f">= {low:g}" if low is not None else ""),
                                     (f"<= {high:g}" if high is not None else "")) if x)


def describe(spec: _FilterBase, leg_names: list[str], values: list[float]) -> str:
    """``rotation IWM/SPY 10s +1.23% (>= 1) pass``: the filter, its value and the verdict."""
    def num(value, fmt):
        return "n/a" if not math.isfinite(value) else format(value, fmt)

    verdict = "pass" if evaluate(spec, values) else "fail"
    if isinstance(spec, RotationFilter):
        text = f"rotation {leg_names[0]}/{leg_names[1]} {spec.sessions}s {num(values[0], '+.2f')}%"
    elif isinstance(spec, DriftFilter):
        text = f"drift {spec.period} {leg_names[0]}/{leg_names[1]} {spec.target:.0%} {num(values[0], '+.2f')}pts"
    else:
        ratios = ", ".join(f"{name} {num(v, '.2f')}x" for name, v in zip(leg_names, values))
        text = f"volume_spike {spec.period} {ratios}"
    return f"{text} ({threshold_text(spec)}) {verdict}"


# -- on bar tables (the pressure monitor) -----------------------------------------

def values_on(spec: _FilterBase, leg_bars: list, day) -> list[float]:
    """The filter's values on ``day`` from bar tables of its legs (in ``legs()`` order); the pure
    functions the indicators match."""
    from strategies.signals.drift import drift_table
    from strategies.signals.periods import value_on
    from strategies.signals.rotation import relative_strength
    from strategies.signals.volume import same_session_volume_ratio

    if isinstance(spec, RotationFilter):
        return [value_on(relative_strength(leg_bars[0], leg_bars[1], spec.sessions), day)]
    if isinstance(spec, DriftFilter):
        return [value_on(drift_table(leg_bars[0], leg_bars[1], spec.period, spec.target)["drift_pts"], day)]
    return [value_on(same_session_volume_ratio(bars, spec.lookback, spec.period, spec.min_samples)["ratio"], day)
            for bars in leg_bars]
