"""The sweep file: what ``flowbot optimize`` varies, how it searches, and what it optimizes.

A sweep names a base run config (a path relative to the sweep file), fixed
overrides applied to every run, the parameters to vary (any dotted config key
that ``--set`` takes), the search (grid, random or optuna), the objective, its
constraints, and optional walk-forward windows by year::

    name: december_fade
    base: ../backtest.yaml
    strategies: [december_fade]                  # run only this playbook of the base
    fixed: {broker.slippage_pct: 0.02}
    parameters:
      strategies.december_fade.params.rally_pct: [0.75, 1.5, 3.0]            # values
      strategies.december_fade.params.stop_atr: {low: 1.0, high: 2.5, step: 0.5}  # a range
      strategies.december_fade.params.drift_min_pct: {low: 1.5, high: 4}     # random/optuna only
    search: {method: grid}                       # grid | random | optuna (with trials, seed)
    objective: {metric: sharpe, direction: maximize}
    constraints: [{metric: trades, min: 3}]      # on whole-period runs
    walk_forward: {train_years: 8, test_years: 1, constraints: [{metric: trades, min: 1}]}

Everything is checked before the first run (:func:`load_sweep`): unknown keys,
values outside a parameter's valid range (the playbook's pydantic model), an
empty grid, an unknown objective. Errors name the sweep file, the key and its line.
"""
from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from runner.config import (RunConfig, _line_of, apply_override, describe_error, dotted, format_errors, read_yaml,
                           split_key)
from runner.errors import ConfigError
from runner.optimize.sweep_schema import (MAX_GRID, METRICS, Constraint, ObjectiveSpec, ParameterSpec,  # noqa: F401
                                          SearchSpec, SweepFile, WalkForwardSpec)
from strategies.params import explore_range
from strategies.registry import STRATEGIES, card_of

# -- the validated sweep -------------------------------------------------------

@dataclass
class Parameter:
    key: str             # dotted config key, as --set takes it
    column: str          # its column in results.csv
    spec: ParameterSpec
    integer: bool        # the config field is an int


@dataclass
class Sweep:
    """A sweep checked against its base config, ready to plan runs."""

    path: Path
    spec: SweepFile
    base_path: Path
    base_raw: dict                 # the base config with ``fixed`` applied
    parameters: list[Parameter]
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    def grid(self) -> list[dict[str, Any]]:
        """Every combination of a grid search, in a fixed order (its index is the run id)."""
        axes = [p.spec.grid_values(p.integer) for p in self.parameters]
        return [dict(zip((p.key for p in self.parameters), combo)) for combo in itertools.product(*axes)]

    def random_runs(self) -> list[dict[str, Any]]:
        """``trials`` random points, the same for the same seed."""
        import numpy as np

        rng = np.random.default_rng(self.spec.search.seed)
        runs = []
        for _ in range(self.spec.search.trials):
            point = {}
            for p in self.parameters:
                point[p.key] = _draw(rng, p)
            runs.append(point)
        return runs

    def config_for(self, values: dict[str, Any]) -> dict:
        """The raw run config of one run (base, fixed, then this run's values)."""
        raw = copy.deepcopy(self.base_raw)
        for key, value in values.items():
            apply_override(raw, key, value, f"{self.path}: parameters.{key}")
        return raw


def _draw(rng, p: Parameter):
    spec = p.spec
    grid = spec.grid_values(p.integer)
    if grid is not None:
        return grid[int(rng.integers(len(grid)))]
    if spec.log:
        value = math.exp(rng.uniform(math.log(spec.low), math.log(spec.high)))
    else:
        value = rng.uniform(spec.low, spec.high)
    return int(round(value)) if p.integer else round(float(value), 6)


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file against its base config; raise ConfigError with a precise message."""
    path = Path(path)
    raw, node = read_yaml(path)
    try:
        spec = SweepFile.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        for error in errors:
            if error["type"] == "extra_forbidden":
                error["known"] = _known_sweep_keys(error["loc"])
        raise ConfigError(format_errors(errors, str(path), node, model=SweepFile)) from None

    base_path = spec.base if spec.base.is_absolute() else path.parent / spec.base
    if not base_path.exists() and not spec.base.is_absolute():
        # base: config/backtest.yaml beside a sweep outside the repository: the shipped copy, as -c finds it.
        base_path = _shipped(spec.base) or base_path
    if not base_path.exists():
        line = _line_of(node, ["base"])
        raise ConfigError(f"{path}: base{f' (line {line})' if line else ''}: no such config file {base_path} "
                          f"(the path is relative to the sweep file)")
    base_raw, _ = read_yaml(base_path)
    if spec.strategies:
        _select_strategies(base_raw, spec.strategies, path, node, base_path)
    for key, value in spec.fixed.items():
        apply_override(base_raw, key, value, f"{path}: fixed.{key}")
    _validate_run(base_raw, path, node, ["fixed"], f"{path}: with its fixed values, the base config {base_path}")

    _check_grid_size(spec, path, node)
    parameters, notes, columns = [], [], set()
    for key, pspec in spec.parameters.items():
        where = _where(path, node, key)
        if key in spec.fixed:
            raise ConfigError(f"{where}: is also in fixed; a key is either fixed or varied")
        integer = _is_integer_field(base_raw, key, where)
        if integer and pspec.step is not None and float(pspec.step) != int(pspec.step):
            raise ConfigError(f"{where}: this parameter takes whole numbers, so the step must be one too "
                              f"(got {pspec.step:g}; its values would be rounded, some twice)")
        _check_tunes_an_active_playbook(base_raw, key, where)
        for value in pspec.endpoints():
            if integer and pspec.values is None and float(value) != int(value):
                raise ConfigError(f"{where}: expected whole numbers for this parameter (got {value:g})")
        _check_values(base_raw, key, pspec.endpoints(), where)
        grid = pspec.grid_values(integer)
        if grid is not None and pspec.values is None:
            # The step may land on a value the model refuses (e.g. lt): the bounds are monotone,
            # so the first and last grid values are the ones to check.
            for value in {grid[0], grid[-1]}:
                _check_value(base_raw, key, value, where)
        if spec.search.method == "grid" and grid is None:
            raise ConfigError(f"{where}: a grid needs values or a range with a step "
                              f"(low {pspec.low:g}, high {pspec.high:g}, no step)")
        notes += _explore_notes(base_raw, key, pspec)
        if grid is not None and pspec.values is None and grid[-1] < pspec.high - 1e-9 * max(1.0, abs(pspec.high)):
            notes.append(f"{key}: a step of {pspec.step:g} from {pspec.low:g} stops at {grid[-1]:g}, so high "
                         f"{pspec.high:g} is not tried (make high a whole number of steps from low to include it)")
        column = _column_name(key)
        if column in columns:
            column = key
        columns.add(column)
        parameters.append(Parameter(key, column, pspec, integer))

    notes += _one_playbook(base_raw, spec, path, node, base_path)
    return Sweep(path, spec, base_path, base_raw, parameters, notes)


def _one_playbook(base_raw: dict, spec: SweepFile, path: Path, node, base_path: Path) -> list[str]:
    """A sweep optimizes one playbook. A backtest runs each playbook on its own account, so no figure
    ranks several together and their parameters cannot interact: of a base running several, the sweep
    runs the one its parameters tune (the others are disabled in its runs and best.yaml, with a note);
    parameters tuning several, or none in particular, are refused with what to write instead."""
    entries = base_raw.get("strategies") or []
    active = [i for i, s in enumerate(entries) if isinstance(s, dict) and s.get("enabled", True) is not False]
    if len(active) <= 1:
        return []
    name = lambda i: str(entries[i].get("label") or entries[i].get("name"))   # noqa: E731
    tuned: dict[int, list[str]] = {}
    for key in spec.parameters:
        resolved = apply_override(copy.deepcopy(base_raw), key, 0, f"{path}: parameters.{key}")
        if len(resolved) > 1 and resolved[0] == "strategies" and isinstance(resolved[1], int):
            tuned.setdefault(resolved[1], []).append(key)
    tuned_active = [i for i in active if i in tuned]
    if len(tuned_active) == 1:
        (chosen,) = tuned_active
        others = [name(i) for i in active if i != chosen]
        for i in active:
            if i != chosen:
                entries[i]["enabled"] = False
        return [f"the sweep tunes {name(chosen)} only, so its runs (and best.yaml) leave out the other "
                f"playbooks of {base_path}: {', '.join(others)}. A backtest runs each playbook on its own account, "
                f"so they could not change {name(chosen)}'s figures (write strategies: [{name(chosen)}] to say so "
                f"and silence this note)"]
    where = f"{path}: parameters" + (f" (line {_line_of(node, ['parameters'])})" if _line_of(node, ["parameters"])
                                     else "")
    names = [name(i) for i in active]
    disabled = [i for i in tuned if i not in active and i < len(entries) and isinstance(entries[i], dict)]
    if disabled:
        raise ConfigError(f"{where}: {', '.join(tuned[disabled[0]])} tunes {name(disabled[0])}, which the base "
                          f"config {base_path} disables (enabled: false); enable it, or list it in strategies:")
    if tuned_active:
        tuned_names = [name(i) for i in tuned_active]
        raise ConfigError(f"{where}: the sweep tunes {' and '.join(tuned_names)}, which a backtest runs on separate "
                          f"accounts, so no one figure ranks them together and their parameters do not interact; "
                          f"sweep one playbook at a time: one sweep file per playbook with strategies: "
                          f"[{tuned_names[0]}] (and so on), which also needs the sum of their grids instead of "
                          f"the product")
    raise ConfigError(f"{where}: the parameters ({', '.join(spec.parameters)}) tune no playbook in particular, and "
                      f"the base config {base_path} runs {len(names)} ({', '.join(names)}), each on its own "
                      f"account; say which one the objective is measured on with strategies: [{names[0]}] "
                      f"(one sweep per playbook)")


def _check_tunes_an_active_playbook(base_raw: dict, key: str, where: str) -> None:
    """A parameter of a playbook the sweep's runs leave out (strategies: [...], enabled: false) changes no
    figure: every value would run the same backtest."""
    entries = base_raw.get("strategies") or []
    resolved = apply_override(copy.deepcopy(base_raw), key, 0, where)
    if len(resolved) < 2 or resolved[0] != "strategies" or not isinstance(resolved[1], int):
        return
    entry = entries[resolved[1]] if resolved[1] < len(entries) else None
    if isinstance(entry, dict) and entry.get("enabled", True) is False:
        name = entry.get("label") or entry.get("name")
        active = [str(s.get("label") or s.get("name")) for s in entries
                  if isinstance(s, dict) and s.get("enabled", True) is not False]
        raise ConfigError(f"{where}: tunes {name}, which this sweep's runs leave out (they run "
                          f"{', '.join(active) or 'no playbook'}): every value would give the same figures; "
                          f"tune a parameter of {', '.join(active[:1]) or 'the playbook run'}, or sweep {name} in a sweep "
                          f"of its own (strategies: [{name}])")


def _shipped(base: Path) -> Path | None:
    from runner.config_files import find_config

    found = find_config(base, base.name) if base.parts and base.parts[0] == "config" else None
    return found if found is not None and found.is_file() and found != base else None


def _check_grid_size(spec: SweepFile, path: Path, node) -> None:
    """The grid's size, computed from the counts (nothing is built): refused above MAX_GRID."""
    if spec.search.method != "grid":
        counts = [p.grid_count() for p in spec.parameters.values()]
        big = next((k for k, c in zip(spec.parameters, counts) if c is not None and c > MAX_GRID), None)
        if big:
            raise ConfigError(f"{_where(path, node, big)}: the step makes more than {MAX_GRID:,} values; "
                              f"use a larger step or drop it (a continuous range)")
        return
    size = 1.0
    for key, pspec in spec.parameters.items():
        count = pspec.grid_count()
        size *= count if count is not None else 1
    if size > MAX_GRID:
        shown_size = f"{size:,.0f}" if math.isfinite(size) and size < 1e18 else f"{size:.3g}"
        raise ConfigError(f"{path}: parameters: the grid has {shown_size} runs (more than {MAX_GRID:,}); "
                          f"use fewer values or search: {{method: random, trials: N}}")


def _select_strategies(base_raw: dict, chosen: list[str], path: Path, node, base_path: Path) -> None:
    entries = [s for s in base_raw.get("strategies") or [] if isinstance(s, dict)]
    names = [str(s.get("label") or s.get("name")) for s in entries]
    for name in chosen:
        if not any(name in (s.get("label"), s.get("name")) for s in entries):
            line = _line_of(node, ["strategies"])
            raise ConfigError(f"{path}: strategies{f' (line {line})' if line else ''}: {name!r} is not in the base "
                              f"config {base_path}; it has {', '.join(names) or 'no strategies (is it a run config?)'}")
    for entry in entries:
        entry["enabled"] = bool({entry.get("label"), entry.get("name")} & set(chosen))


def _where(path: Path, node, key: str) -> str:
    line = _line_of(node, ["parameters", key])
    return f"{path}: parameters.{key}" + (f" (line {line})" if line else "")


def _validate_run(raw: dict, path: Path, node, loc: list, prefix: str) -> None:
    problem = run_config_problem(raw)
    if problem:
        raise ConfigError(f"{prefix}: {problem}")


def run_config_problem(raw: dict) -> str | None:
    """The first problem of a raw run config as ``dotted.path: what is wrong``, or None if it is valid."""
    try:
        cfg = RunConfig.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        text = describe_error(error, loc, RunConfig)
        return f"{dotted(loc)}: {text}" if loc else text
    for i, strategy in enumerate(cfg.strategies):
        params_model = card_of(strategy.name).Params
        try:
            params_model(**strategy.params)
        except ValidationError as exc:
            error = exc.errors()[0]
            error["known"] = list(params_model.model_fields)
            loc = ["strategies", i, "params", *error["loc"]]
            return f"{dotted(loc)}: {describe_error(error, loc)}"
    return None


def _check_values(base_raw: dict, key: str, values: list, where: str) -> None:
    """Each value of ``key`` as ``_check_value`` checks it, in time linear in the values: the first in the whole
    run config, the others (scalars of a playbook parameter other than filters, the one the run config itself
    cross-checks) in the playbook's Params model alone; a value that model refuses is checked in the whole
    config again, for the same message. (Each whole check took ~5 ms: a list of 20,000 values, under the grid
    limit, took minutes before the sweep started.)"""
    if not values:
        return
    _check_value(base_raw, key, values[0], where)
    model, name = _strategy_param(base_raw, key)
    params = _strategy_params(base_raw, key) if model is not None and name != "filters" else None
    for value in values[1:]:
        if params is not None and (value is None or isinstance(value, (bool, int, float, str))):
            try:
                model(**{**params, name: value})
                continue
            except (ValidationError, TypeError, ValueError):
                pass
        _check_value(base_raw, key, value, where)


def _strategy_params(raw: dict, key: str) -> dict | None:
    """The raw params mapping of the playbook ``key`` names (``strategies.<i or name>.params.<field>``)."""
    parts = split_key(key)
    items = raw.get("strategies") or []
    if parts[1].isdigit() and int(parts[1]) < len(items):
        entry = items[int(parts[1])]
    else:
        entry = next((s for s in items if isinstance(s, dict) and parts[1] in (s.get("label"), s.get("name"))), None)
    params = entry.get("params") if isinstance(entry, dict) else None
    return dict(params) if isinstance(params, dict) else {} if params is None else None


def _check_value(base_raw: dict, key: str, value: Any, where: str) -> None:
    raw = copy.deepcopy(base_raw)
    apply_override(raw, key, value, where)
    problem = run_config_problem(raw)
    if problem is None:
        return
    detail = problem.split(": ", 1)[-1]
    if "unknown key" in detail:
        detail = detail.replace("unknown key", "unknown parameter", 1)
        raise ConfigError(f"{where}: {detail}")
    if detail.startswith("must be"):
        raise ConfigError(f"{where}: value {value!r} is outside the parameter's valid range: {detail}")
    raise ConfigError(f"{where}: value {value!r} is refused: {detail}")


def _strategy_param(raw: dict, key: str) -> tuple[type | None, str | None]:
    """(the playbook's Params model, the field name) when ``key`` is a strategy parameter."""
    parts = split_key(key)
    if len(parts) != 4 or parts[0] != "strategies" or parts[2] != "params":
        return None, None
    items = raw.get("strategies") or []
    entry = None
    if parts[1].isdigit() and int(parts[1]) < len(items):
        entry = items[int(parts[1])]
    else:
        entry = next((s for s in items if isinstance(s, dict) and parts[1] in (s.get("label"), s.get("name"))), None)
    if not isinstance(entry, dict) or entry.get("name") not in STRATEGIES:
        return None, None
    return card_of(entry["name"]).Params, parts[3]


def _is_integer_field(raw: dict, key: str, where: str) -> bool:
    model, name = _strategy_param(raw, key)
    if model is not None:
        field_info = model.model_fields.get(name)
        return field_info is not None and _is_int(field_info.annotation)
    current: Any = RunConfig
    for part in split_key(key):
        fields = getattr(current, "model_fields", None)
        if fields is None:
            return False
        if part not in fields:
            return False
        annotation = fields[part].annotation
        if _is_int(annotation):
            return True
        inner = [a for a in (annotation, *getattr(annotation, "__args__", ())) if isinstance(a, type)]
        current = next((a for a in inner if issubclass(a, BaseModel)), None)
    return False


def _is_int(annotation) -> bool:
    args = getattr(annotation, "__args__", None)
    options = [a for a in (args or (annotation,)) if a is not type(None)]
    return bool(options) and all(a is int for a in options)


def _explore_notes(raw: dict, key: str, spec: ParameterSpec) -> list[str]:
    model, name = _strategy_param(raw, key)
    if model is None or name not in model.model_fields:
        return []
    suggested = explore_range(model, name)
    numbers = [v for v in spec.endpoints() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not suggested or not numbers:
        return []
    low, high = suggested
    if min(numbers) < low or max(numbers) > high:
        return [f"{key}: the sweep goes beyond the range the playbook suggests ({low:g} to {high:g})"]
    return []


def _column_name(key: str) -> str:
    parts = split_key(key)
    if len(parts) == 4 and parts[0] == "strategies" and parts[2] == "params":
        return f"{parts[1]}.{parts[3]}"
    return key


def _known_sweep_keys(loc) -> list[str]:
    """Keys allowed where an unknown one was found (for 'did you mean')."""
    model: Any = SweepFile
    skip = False
    for part in loc[:-1]:
        if skip or isinstance(part, int):
            skip = False
            continue
        field_info = getattr(model, "model_fields", {}).get(part)
        if field_info is None:
            return []
        annotation = field_info.annotation
        skip = getattr(annotation, "__origin__", None) is dict
        inner = [a for a in (annotation, *getattr(annotation, "__args__", ())) if isinstance(a, type)]
        model = next((a for a in inner if issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))
