"""A sweep listing many values (under the grid limit of 100,000) is checked in time linear in the values.

Before: each value was checked by validating a deep copy of the whole run config (~5 ms each), and the
duplicate check compared each value with every earlier one; 20,000 listed values took minutes before the sweep
started, which looks like a hang. The checks count the work, not the time.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from hardening_probe import refuse
from runner.optimize import sweep_config
from runner.optimize.sweep_schema import ParameterSpec

BASE = Path(__file__).resolve().parents[2] / "config" / "backtest.yaml"


def sweep_text(values: str, key: str = "strategies.december_fade.params.rally_pct") -> str:
    return (f"name: many\nbase: {BASE}\nstrategies: [december_fade]\nparameters:\n  {key}: [{values}]\n"
            "search: {method: grid}\nobjective: {metric: total_return_pct, direction: maximize}\n")


@pytest.mark.parametrize("count", [500, 3000])
def test_listed_values_are_not_each_checked_in_the_whole_config(count, tmp_path, monkeypatch):
    calls = []
    real = sweep_config.run_config_problem
    monkeypatch.setattr(sweep_config, "run_config_problem", lambda raw: calls.append(1) or real(raw))
    path = tmp_path / "s.yaml"
    path.write_text(sweep_text(",".join(str(1 + i / 1e4) for i in range(count))))
    sweep_config.load_sweep(path)
    assert len(calls) < 10, len(calls)


@pytest.mark.parametrize("bad, expected", [("-3", "value -3 is outside"), ("x", "value 'x' is refused"),
                                           ("true", "value True is refused"), ("null", "value None is refused"),
                                           ("50", "value 50 is outside")])
@pytest.mark.parametrize("where", [1, 700])
def test_a_bad_value_deep_in_a_long_list_keeps_its_message(bad, expected, where, tmp_path, capsys, monkeypatch):
    values = [str(1 + i / 1e4) for i in range(1000)]
    values.insert(where, bad)
    (tmp_path / "s.yaml").write_text(sweep_text(",".join(values)))
    message = refuse(["config", "check", "s.yaml"], tmp_path, tmp_path, capsys, monkeypatch, bad)
    assert expected in message and "rally_pct" in message, message


class Counted(float):
    compared = 0

    def __eq__(self, other):
        Counted.compared += 1
        return float.__eq__(self, other)

    __hash__ = float.__hash__


def test_the_duplicate_check_does_not_compare_every_pair():
    Counted.compared = 0
    ParameterSpec(values=[Counted(1 + i / 1e4) for i in range(3000)])
    assert Counted.compared < 3000 * 10, Counted.compared


@pytest.mark.parametrize("values", [[1.5, 2.0, 1.5], [[1], [2], [1]], [{"a": 1}, {"a": 1}], ["x", "y", "x"]])
def test_duplicates_are_still_found(values):
    with pytest.raises(ValueError, match="listed twice"):
        ParameterSpec(values=values)
