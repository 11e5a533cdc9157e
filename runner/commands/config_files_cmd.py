"""``flowbot config check`` / ``config show``: a run config or a sweep file, told apart by their keys."""
from __future__ import annotations

import sys

from pathlib import Path

from runner.errors import ConfigError

SWEEP_KEYS = {"base", "parameters"}


def is_sweep(path: Path) -> bool:
    """A sweep file names a base config and parameters (a run config has neither key)."""
    from runner.config import read_yaml

    raw, _ = read_yaml(path)
    return SWEEP_KEYS <= set(raw)


def check(path: Path, overrides: list[str]) -> int:
    from runner.config import load_config

    if is_sweep(path):
        from runner.optimize.sweep_config import load_sweep

        if overrides:
            raise ConfigError(f"{path}: --set applies to run configs; a sweep takes its values in fixed:")
        sweep = load_sweep(path)
        spec = sweep.spec
        if spec.search.method == "grid":
            runs = f"a grid of {len(sweep.grid())} runs"
        else:
            runs = f"{spec.search.method} search, {spec.search.trials} trials"
        keys = ", ".join(p.column for p in sweep.parameters)
        print(f"{path}: ok (sweep {sweep.name}: {runs} over {keys}; objective {spec.objective.metric} "
              f"{spec.objective.direction}; base {Path(sweep.base_path).resolve()})")
        for note in sweep.notes:
            print(f"  note: {note}")
        return 0
    from runner.ib.sizing_check import sizing_warnings

    cfg = load_config(path, overrides)
    names = ", ".join(s.display_name for s in cfg.active_strategies())
    print(f"{path}: ok ({len(cfg.strategies)} strategies: {names})")
    for warning in sizing_warnings(cfg):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def show(path: Path, overrides: list[str]) -> int:
    import yaml

    from runner.config import load_config, resolved_yaml

    if is_sweep(path):
        from runner.optimize.sweep_config import load_sweep

        sweep = load_sweep(path)
        print(yaml.safe_dump(sweep.spec.model_dump(mode="json"), sort_keys=False, allow_unicode=True), end="")
        return 0
    print(resolved_yaml(load_config(path, overrides)), end="")
    return 0
