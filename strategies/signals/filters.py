"""Filters bound to a playbook's feeds: their values on the current bar, the verdict and its description.

The schemas (``RotationFilter``, ``DriftFilter``, ``VolumeSpikeFilter``) are in
``strategies.signals.filter_specs``, so validating a config imports no indicator.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from strategies.conditions import Condition
from strategies.signals.filter_specs import (FILTER_MODELS, DriftFilter, RotationFilter, SignalFilter,  # noqa: F401
                                             FilterSpec, VolumeSpikeFilter)
from strategies.signals.indicators import PeriodDrift, RelativeStrength, SameSessionVolume


# -- in the strategy -----------------------------------------------------------

class FilterCheck:
    """One filter bound to its feeds: its value on the current bar, and whether it passes."""

    def __init__(self, spec: FilterSpec, resolve: Callable[[str], object], instrument: str):
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


def evaluate(spec: FilterSpec, values: list[float]) -> bool:
    """Whether ``values`` (one per leg for volume spikes, else one) pass ``spec``; NaN never passes."""
    def within(value, low, high):
        return math.isfinite(value) and (low is None or value >= low) and (high is None or value <= high)

    if isinstance(spec, RotationFilter):
        return within(values[0], spec.min_pct, spec.max_pct)
    if isinstance(spec, DriftFilter):
        return within(values[0], spec.min_pts, spec.max_pts)
    hits = [within(v, spec.min_ratio, None) for v in values]
    return all(hits) if spec.require == "all" else any(hits)


def threshold_text(spec: FilterSpec) -> str:
    if isinstance(spec, VolumeSpikeFilter):
        return f">= {spec.min_ratio:g}x ({spec.require})"
    low, high = (spec.min_pct, spec.max_pct) if isinstance(spec, RotationFilter) else (spec.min_pts, spec.max_pts)
    return " and ".join(x for x in ((f">= {low:g}" if low is not None else ""),
                                     (f"<= {high:g}" if high is not None else "")) if x)


def describe(spec: FilterSpec, leg_names: list[str], values: list[float]) -> str:
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

def values_on(spec: FilterSpec, leg_bars: list, day) -> list[float]:
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
