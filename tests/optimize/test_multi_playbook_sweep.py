"""A sweep over a base config with several playbooks: a backtest runs each on its own account, so a sweep
optimizes one playbook (the one its parameters tune, the others left out with a note), and its figures
are that playbook's backtest figures; parameters tuning several playbooks, or none in particular, are
refused with what to write instead."""
from __future__ import annotations

import pytest

from runner.backtest.run import run_backtest
from runner.cli import main
from runner.config import load_config
from runner.errors import ConfigError
from runner.optimize.sweep import optimize, read_results
from runner.optimize.sweep_config import load_sweep

from test_optimize import sweep_dir, write_sweep  # noqa: F401 - the fixture (base: december_fade + january_snapback)

TUNES_DECEMBER = """\
name: two-playbooks
base: base.yaml
parameters:
  strategies.december_fade.params.rally_pct: [1.0, 1.5]
  broker.commission.per_share: [0.0, 0.01]
search: {method: grid}
objective: {metric: total_return_pct, direction: maximize}
"""


def test_a_sweep_tuning_one_playbook_runs_only_that_one_with_its_backtest_figures(sweep_dir):  # noqa: F811
    sweep = load_sweep(write_sweep(sweep_dir, TUNES_DECEMBER))
    assert [s.get("enabled", True) for s in sweep.base_raw["strategies"]] == [True, False]
    assert any("tunes december_fade only" in n and "january_snapback" in n and "own account" in n
               for n in sweep.notes)
    result = optimize(sweep.path, workers=1, out=sweep_dir / "run", progress=False)
    assert not any("shared account" in w for w in result.trust["warnings"])
    assert result.trust["data"] == "december_fade [REAL+PROXY]"
    rows = read_results(sweep_dir / "run" / "results.csv")
    # Each run's figures are december_fade's own account in a backtest of the WHOLE base config
    # (both playbooks, each on its own account) with that run's values.
    for row in rows:
        overrides = [f"strategies.december_fade.params.rally_pct={row['december_fade.rally_pct']}",
                     f"broker.commission.per_share={row['broker.commission.per_share']}"]
        full = run_backtest(load_config(sweep_dir / "base.yaml", overrides)).metrics
        assert list(full["playbooks"]) == ["december_fade", "january_snapback"]
        mine = full["playbooks"]["december_fade"]["performance"]
        assert (row["total_return_pct"], row["trades"], row["sharpe"]) == \
            (mine["total_return_pct"], mine["trades"], mine["sharpe"])
    page = (sweep_dir / "run" / "report.html").read_text()
    assert "objective total_return_pct (maximize) of december_fade on its own account" in page
    assert "tunes december_fade only" in page
    best = (sweep_dir / "run" / "best.yaml").read_text()
    assert "enabled: false" in best   # january_snapback stays in best.yaml, disabled
    assert "tunes december_fade only" in (sweep_dir / "run" / "run.log").read_text()


def test_listing_several_playbooks_but_tuning_one_runs_that_one(sweep_dir):  # noqa: F811
    text = TUNES_DECEMBER.replace("base: base.yaml\n", "base: base.yaml\nstrategies: [december_fade, january_snapback]\n")
    sweep = load_sweep(write_sweep(sweep_dir, text))
    assert [s["enabled"] for s in sweep.base_raw["strategies"]] == [True, False]


@pytest.mark.parametrize("parameters, expected", [
    ("  strategies.december_fade.params.rally_pct: [1.0, 1.5]\n"
     "  strategies.january_snapback.params.hold_sessions: [3, 5]\n",
     "the sweep tunes december_fade and january_snapback, which a backtest runs on separate accounts"),
    ("  broker.commission.per_share: [0.0, 0.01]\n",
     "tune no playbook in particular, and the base config"),
])
def test_a_sweep_tuning_several_playbooks_or_none_is_refused(sweep_dir, parameters, expected):  # noqa: F811
    text = ("name: refused\nbase: base.yaml\nparameters:\n" + parameters
            + "objective: {metric: total_return_pct, direction: maximize}\n")
    path = write_sweep(sweep_dir, text)
    with pytest.raises(ConfigError) as error:
        load_sweep(path)
    message = str(error.value)
    assert expected in message and "strategies: [" in message and str(path) in message
    assert main(["optimize", "-c", str(path), "--out", str(sweep_dir / "never")]) == 2
    assert not (sweep_dir / "never").exists()


def test_a_sweep_of_one_playbook_has_no_note(sweep_dir):  # noqa: F811
    text = TUNES_DECEMBER.replace("base: base.yaml\n", "base: base.yaml\nstrategies: [december_fade]\n")
    sweep = load_sweep(write_sweep(sweep_dir, text))
    assert not any("tunes" in n for n in sweep.notes)
    assert [s["enabled"] for s in sweep.base_raw["strategies"]] == [True, False]   # as strategies: chose
