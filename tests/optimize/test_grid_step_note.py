"""A range whose step does not reach ``high`` says so (it used to leave ``high`` out silently)."""
from pathlib import Path

import pytest

from runner.optimize.sweep_config import load_sweep

BASE = Path(__file__).resolve().parents[2] / "config" / "backtest.yaml"


def sweep_with(tmp_path: Path, grid: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nbase: {BASE}\nstrategies: [december_fade]\nparameters:\n"
                    f"  strategies.december_fade.params.rally_pct: {grid}\n"
                    "objective: {metric: total_return_pct}\n")
    return path


@pytest.mark.parametrize("grid, last", [("{low: 0.75, high: 3.0, step: 0.4}", "2.75"),
                                        ("{low: 1, high: 2, step: 0.3}", "1.9"),
                                        ("{low: 0.5, high: 1.0, step: 0.3}", "0.8")])
def test_a_step_that_misses_high_is_noted(tmp_path, grid, last):
    notes = [n for n in load_sweep(sweep_with(tmp_path, grid)).notes if "is not tried" in n]
    assert len(notes) == 1 and f"stops at {last}" in notes[0] and "rally_pct" in notes[0], notes


@pytest.mark.parametrize("grid", ["{low: 0.75, high: 3.0, step: 0.25}", "{low: 1, high: 2, step: 0.1}",
                                  "{low: 1, high: 1, step: 0.5}", "[1.0, 1.5]"])
def test_a_step_that_lands_on_high_says_nothing(tmp_path, grid):
    assert not [n for n in load_sweep(sweep_with(tmp_path, grid)).notes if "is not tried" in n]
