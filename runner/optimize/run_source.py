"""Where a sweep's runs come from: a fixed list (grid, random) or optuna's ask/tell.

``run_source(plan, results)`` gives an object with ``has_more()``, ``next()``
-> (run id, values) and ``tell(row)``; finished rows of a resumed sweep are
skipped (lists) or told to the study first (optuna).
"""
from __future__ import annotations

from typing import Any


class _ListSource:
    def __init__(self, runs: list[dict], done: set[int]):
        self._todo = [(i, values) for i, values in enumerate(runs) if i not in done]
        self.remaining = len(self._todo)

    def has_more(self) -> bool:
        return bool(self._todo)

    def next(self) -> tuple[int, dict]:
        return self._todo.pop(0)

    def tell(self, row: dict) -> None:
        pass


class _OptunaSource:
    """optuna's ask/tell: trials are asked while workers are free and told as rows arrive."""

    def __init__(self, plan, rows: list[dict]):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        # Its warnings go through our log (run.log, the console in our format), never its own raw stderr lines.
        optuna.logging.disable_default_handler()
        optuna.logging.enable_propagation()
        spec = plan.sweep.spec
        self.plan = plan
        self.distributions = {p.key: _distribution(p) for p in plan.sweep.parameters}
        sampler = optuna.samplers.TPESampler(seed=spec.search.seed, constant_liar=True)
        self.study = optuna.create_study(direction=spec.objective.direction, sampler=sampler)
        for row in rows:   # finished runs of an interrupted sweep
            values = {k: v for k, v in plan.values_of(row).items()}
            state, value = self._outcome(row)
            self.study.add_trial(optuna.trial.create_trial(params=values, distributions=self.distributions,
                                                           value=value, state=state))
        self.remaining = max(spec.search.trials - len(rows), 0)
        self._next_id = max((r["run"] for r in rows), default=-1) + 1
        self._trials: dict[int, Any] = {}

    def _outcome(self, row: dict):
        from optuna.trial import TrialState

        if row.get("feasible") and row.get("objective") is not None:
            return TrialState.COMPLETE, float(row["objective"])
        return TrialState.FAIL, None

    def has_more(self) -> bool:
        return self.remaining > 0

    def next(self) -> tuple[int, dict]:
        trial = self.study.ask(self.distributions)
        run_id, self._next_id = self._next_id, self._next_id + 1
        self._trials[run_id] = trial
        self.remaining -= 1
        return run_id, dict(trial.params)

    def tell(self, row: dict) -> None:
        trial = self._trials.pop(row["run"])
        state, value = self._outcome(row)
        self.study.tell(trial, value, state=state)


def _distribution(p):
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    spec = p.spec
    if spec.values is not None:
        return CategoricalDistribution(spec.values)
    if p.integer:
        return IntDistribution(int(spec.low), int(spec.high), log=spec.log, step=int(spec.step or 1))
    return FloatDistribution(spec.low, spec.high, log=spec.log, step=spec.step)


def run_source(plan, results):
    sweep = plan.sweep
    method = sweep.spec.search.method
    if method == "optuna":
        return _OptunaSource(plan, results.rows)
    runs = sweep.grid() if method == "grid" else sweep.random_runs()
    return _ListSource(runs, {int(r["run"]) for r in results.rows})
