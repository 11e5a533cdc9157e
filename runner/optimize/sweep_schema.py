"""The sweep file's schema: pydantic models for each section, with their own checks.

``runner.optimize.sweep_config`` loads a file into these models and then
checks it against the base config (keys, ranges, the grid's size).
"""
from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from strategies.params import PlainInputModel

#: Metrics a sweep can optimize or constrain (keys of runner.report.metrics.performance).
METRICS = ("total_return_pct", "cagr_pct", "sharpe", "sortino", "max_drawdown_pct", "trades", "win_rate_pct",
           "profit_factor", "exposure_pct", "net_pnl")
MAX_GRID = 100_000


class _Strict(PlainInputModel):
    model_config = ConfigDict(extra="forbid")


class ParameterSpec(_Strict):
    """One varied key: a list of values, or a range ``low..high`` (with ``step`` for a grid)."""

    values: list[Any] | None = Field(None, max_length=MAX_GRID, description="the values to try")
    low: float | None = Field(None, description="lowest value of a range")
    high: float | None = Field(None, description="highest value of a range (included)")
    step: float | None = Field(None, gt=0, description="grid step of a range; without it the range is continuous")
    log: bool = Field(False, description="sample a continuous range on a log scale (random, optuna)")

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {"values": value}
        if not isinstance(value, dict):
            return {"values": [value]}
        return value

    @model_validator(mode="after")
    def _one_form(self) -> "ParameterSpec":
        ranged = self.low is not None or self.high is not None
        if self.values is not None and (ranged or self.step is not None):
            raise ValueError("give either values or low/high (with an optional step), not both")
        if self.values is None and not ranged:
            raise ValueError("give values (a list) or a range with low and high")
        if self.values is not None and not self.values:
            raise ValueError("empty list of values: the grid would be empty")
        if self.values is not None:
            seen: set = set()
            unhashable: list = []
            for value in self.values:   # a value twice runs twice: the same run, twice the time
                try:   # a set, not a scan of those seen: 20,000 values took seconds
                    twice, mark = (type(value), value) in seen, lambda: seen.add((type(value), value))
                except TypeError:
                    twice = any(type(value) is type(other) and value == other for other in unhashable)
                    mark = lambda: unhashable.append(value)   # noqa: E731
                if twice:
                    raise ValueError(f"the value {value!r} is listed twice; list each value once")
                mark()
        if ranged:
            if self.low is None or self.high is None:
                raise ValueError("a range needs both low and high")
            if self.low > self.high:
                raise ValueError(f"low {self.low:g} is above high {self.high:g}")
            if self.log and self.low <= 0:
                raise ValueError("a log range needs low > 0")
        return self

    def grid_count(self) -> float | None:
        """How many values a grid tries, computed without building them (inf if beyond counting); None if continuous."""
        if self.values is not None:
            return len(self.values)
        if self.step is None:
            return None
        steps = (self.high - self.low) / self.step
        return math.floor(steps + 1e-9) + 1.0 if math.isfinite(steps) else math.inf

    def grid_values(self, integer: bool) -> list[Any] | None:
        """The values a grid tries; None for a continuous range. Refuses to build more than MAX_GRID."""
        if self.values is not None:
            return list(self.values)
        if self.step is None:
            return None
        if self.grid_count() > MAX_GRID:
            raise ValueError(f"a step of {self.step:g} from {self.low:g} to {self.high:g} makes more than "
                             f"{MAX_GRID:,} values")
        count = int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1
        points = [self.low + i * self.step for i in range(count)]
        return [int(round(p)) for p in points] if integer else [round(p, 10) for p in points]

    def endpoints(self) -> list[Any]:
        return list(self.values) if self.values is not None else [self.low, self.high]


class SearchSpec(_Strict):
    method: Literal["grid", "random", "optuna"] = Field("grid", description="grid | random | optuna")
    trials: int | None = Field(None, ge=1, le=MAX_GRID, description="number of runs of a random or optuna search")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the random and optuna samplers (same seed, same "
                                                      "runs): 0 to 4294967295")

    @model_validator(mode="after")
    def _trials_for_samplers(self) -> "SearchSpec":
        if self.method == "grid" and self.trials is not None:   # a grid runs every point: trials would be ignored
            raise ValueError(f"trials: {self.trials} applies to method random or optuna; a grid runs every "
                             f"combination (drop trials, or say method: random)")
        return self


class ObjectiveSpec(_Strict):
    metric: str = Field("sharpe", description="metric to optimize: " + ", ".join(METRICS))
    direction: Literal["maximize", "minimize"] = Field("maximize", description="maximize | minimize")

    @model_validator(mode="after")
    def _known_metric(self) -> "ObjectiveSpec":
        _check_metric(self.metric)
        return self


class Constraint(_Strict):
    metric: str = Field(description="metric to bound: " + ", ".join(METRICS))
    min: float | None = Field(None, description="the run counts only if metric >= min")
    max: float | None = Field(None, description="the run counts only if metric <= max")

    @model_validator(mode="after")
    def _bounded(self) -> "Constraint":
        _check_metric(self.metric)
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        return self

    def holds(self, value) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def describe(self) -> str:
        parts = ([f"{self.metric} >= {self.min:g}"] if self.min is not None else []) + \
                ([f"{self.metric} <= {self.max:g}"] if self.max is not None else [])
        return " and ".join(parts)


class WalkForwardSpec(_Strict):
    train_years: int = Field(ge=1, le=100, description="calendar years in each training window")
    test_years: int = Field(1, ge=1, le=100, description="calendar years in each test window, right after training")
    step_years: int | None = Field(None, ge=1, le=100, description="roll by this many years (default: test_years)")
    constraints: list[Constraint] = Field(default_factory=list,
                                          description="bounds checked on each training window when choosing its run "
                                                      "(the sweep's constraints apply to whole-period runs)")

    @model_validator(mode="after")
    def _no_overlap(self) -> "WalkForwardSpec":
        if self.step_years is not None and self.step_years < self.test_years:
            raise ValueError(f"step_years {self.step_years} < test_years {self.test_years}: overlapping test "
                             f"windows cannot be stitched into one out-of-sample record")
        return self

    def folds(self, first_year: int, last_year: int) -> list[dict]:
        """Train/test windows by calendar year inside ``first_year..last_year``."""
        step = self.step_years or self.test_years
        folds, start = [], first_year
        while start + self.train_years + self.test_years - 1 <= last_year:
            train = [start, start + self.train_years - 1]
            test = [train[1] + 1, train[1] + self.test_years]
            label = str(test[0]) if test[0] == test[1] else f"{test[0]}-{test[1]}"
            folds.append({"label": label, "train": train, "test": test})
            start += step
        return folds


class SweepFile(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="sweep name, part of the run folder's name")
    base: Path = Field(description="the run config every run starts from, relative to the sweep file")
    strategies: list[str] | None = Field(None, min_length=1, description="run only these playbooks of the base config "
                                         "(names or labels); default: the ones it enables")
    fixed: dict[str, Any] = Field(default_factory=dict, description="dotted key -> value for every run (like --set)")
    parameters: dict[str, ParameterSpec] = Field(min_length=1, description="dotted key -> values or range to vary")
    search: SearchSpec = Field(default_factory=SearchSpec)
    objective: ObjectiveSpec = Field(default_factory=ObjectiveSpec)
    constraints: list[Constraint] = Field(default_factory=list)
    walk_forward: WalkForwardSpec | None = None

    @model_validator(mode="after")
    def _search_needs(self) -> "SweepFile":
        method = self.search.method
        if method in ("random", "optuna") and self.search.trials is None:
            raise ValueError(f"search.trials: method {method} needs trials (how many runs)")
        if method == "optuna" and self.walk_forward is not None:
            raise ValueError("walk_forward needs search method grid or random: an optuna search steered by "
                             "the whole period would see the test years")
        return self


def _check_metric(name: str) -> None:
    if name not in METRICS:
        close = difflib.get_close_matches(name, METRICS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown metric {name!r}{hint}; expected one of {', '.join(METRICS)}")
