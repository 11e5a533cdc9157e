"""flowbot optimize: a grid whose best run is known, resume, Dask, walk-forward, best.yaml, bad sweep files."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from runner.cli import main
from runner.optimize.sweep import optimize, read_results

BASE = """\
name: tiny
start: 2008-01-01
end: 2012-12-31
output: {{folder: {logs}}}
strategies:
  - name: december_fade
    symbol: SPX
    data: sample:sp500
    feeds: {{bonds: sample:aaa_bond_proxy}}
    params: {{rally_pct: 1.5, drift_min_pct: 1.5}}
  - name: january_snapback
    symbol: COMP
    data: sample:nasdaq
"""

# Commission only takes money away and a 20% rally never happens: the best run is
# per_share 0.0 with rally_pct 1.5, which is run 2 in grid order (3 x 2).
GRID = """\
name: known
base: base.yaml
strategies: [december_fade]
parameters:
  broker.commission.per_share: [0.05, 0.0, 0.01]
  strategies.december_fade.params.rally_pct: [20.0, 1.5]
search: {method: grid}
objective: {metric: total_return_pct, direction: maximize}
constraints: [{metric: trades, min: 1}]
"""


@pytest.fixture
def sweep_dir(tmp_path):
    (tmp_path / "base.yaml").write_text(BASE.format(logs=tmp_path / "logs"))
    return tmp_path


def write_sweep(folder: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_grid_finds_the_best_run_known_by_construction(sweep_dir):
    result = optimize(write_sweep(sweep_dir, GRID), workers=2, out=sweep_dir / "run", progress=False)
    assert result.total == 6 and result.ran == 6 and not result.interrupted
    assert result.best["run"] == 3
    assert result.best["broker.commission.per_share"] == 0.0
    assert result.best["december_fade.rally_pct"] == 1.5
    rows = read_results(sweep_dir / "run" / "results.csv")
    assert sorted(r["run"] for r in rows) == list(range(6))
    never = [r for r in rows if r["december_fade.rally_pct"] == 20.0]
    assert all(r["trades"] == 0 and r["feasible"] is False for r in never)
    assert {"year.2009", "year.2012", "objective", "sharpe"} <= set(rows[0])
    page = (sweep_dir / "run" / "report.html").read_text()
    assert "Heatmap" in page and "data:image/png;base64," in page and "Per-year stability" in page


def test_best_yaml_runs_as_it_is(sweep_dir):
    optimize(write_sweep(sweep_dir, GRID), workers=1, out=sweep_dir / "run", progress=False)
    best = json.loads(json.dumps(read_results(sweep_dir / "run" / "results.csv")[3]))
    code = main(["backtest", "-c", str(sweep_dir / "run" / "best.yaml"), "--out", str(sweep_dir / "bt")])
    assert code == 0
    metrics = json.loads((sweep_dir / "bt" / "metrics.json").read_text())
    assert metrics["total_return_pct"] == best["total_return_pct"]
    assert metrics["trades"] == best["trades"]
    assert list(metrics["playbooks"]) == ["december_fade"]   # only the swept playbook runs


def test_interrupted_sweep_resumes_without_redoing_finished_runs(sweep_dir):
    sweep = write_sweep(sweep_dir, GRID)
    folder = sweep_dir / "run"
    seen = []

    def interrupt(row):
        seen.append(row["run"])
        if len(seen) == 2:
            raise KeyboardInterrupt

    first = optimize(sweep, workers=1, out=folder, progress=False, on_result=interrupt)
    assert first.interrupted and first.ran == 2
    assert not (folder / "best.yaml").exists()
    with (folder / "results.csv").open("a") as handle:   # a crash in the middle of a line
        handle.write("5,ok,0.01,1.5,")
    second = optimize(None, resume=folder, workers=2, progress=False)
    assert second.resumed == 2 and second.ran == 4
    rows = read_results(folder / "results.csv")
    assert sorted(r["run"] for r in rows) == list(range(6))
    assert second.best["run"] == 3 and (folder / "best.yaml").exists()
    third = optimize(sweep, resume=folder, progress=False)   # nothing left to do
    assert third.ran == 0 and third.resumed == 6


def test_resume_refuses_a_changed_sweep(sweep_dir, capsys):
    sweep = write_sweep(sweep_dir, GRID)
    optimize(sweep, workers=1, out=sweep_dir / "run", progress=False)
    sweep.write_text(GRID.replace("[0.05, 0.0, 0.01]", "[0.05, 0.0]"))
    code = main(["optimize", "-c", str(sweep), "--resume", str(sweep_dir / "run"), "--no-progress"])
    assert code == 2
    assert "changed since that run started" in capsys.readouterr().err


def test_dask_executor_on_a_local_cluster(sweep_dir):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        result = optimize(write_sweep(sweep_dir, GRID), executor="dask", scheduler=cluster.scheduler_address,
                          out=sweep_dir / "run", progress=False)
    assert result.ran == 6 and result.best["run"] == 3


def test_walk_forward_reports_in_and_out_of_sample(sweep_dir):
    text = GRID + "walk_forward: {train_years: 2, test_years: 1}\n"
    result = optimize(write_sweep(sweep_dir, text), workers=2, out=sweep_dir / "run", progress=False)
    folds = result.walk_forward["folds"]
    assert [(f["train"], f["test"]) for f in folds] == [("2008-2009", "2010"), ("2009-2010", "2011"),
                                                       ("2010-2011", "2012")]
    assert all(f["run"] is not None and f["is"] is not None for f in folds)
    assert result.walk_forward["summary"]["oos_total_return_pct"] is not None
    rows = read_results(sweep_dir / "run" / "results.csv")
    assert "wf.2011.train.total_return_pct" in rows[0] and "wf.2011.test.total_return_pct" in rows[0]
    assert "Walk-forward" in (sweep_dir / "run" / "report.html").read_text()


@pytest.mark.parametrize("method, extra", [("random", "trials: 3, seed: 5"), ("optuna", "trials: 4, seed: 5")])
def test_random_and_optuna_searches(sweep_dir, method, extra):
    text = f"""\
    name: search
    base: base.yaml
    strategies: [december_fade]
    parameters:
      strategies.december_fade.params.rally_pct: {{low: 0.75, high: 3.0}}
      strategies.december_fade.params.atr_period: {{low: 5, high: 20}}
    search: {{method: {method}, {extra}}}
    objective: {{metric: total_return_pct}}
    """
    result = optimize(write_sweep(sweep_dir, text), workers=2, out=sweep_dir / "run", progress=False)
    rows = read_results(sweep_dir / "run" / "results.csv")
    assert result.ran == len(rows) == (3 if method == "random" else 4)
    assert all(0.75 <= r["december_fade.rally_pct"] <= 3.0 for r in rows)
    assert all(isinstance(r["december_fade.atr_period"], int) for r in rows)


BAD_SWEEPS = [
    ("parameters:\n  strategies.december_fade.params.rally_pc: [1, 2]\n",
     "parameters.strategies.december_fade.params.rally_pc (line 5): unknown parameter (did you mean 'rally_pct'?)"),
    ("parameters:\n  strategies.december_fade.params.rally_pct: {low: 1, high: 25, step: 1}\n",
     "value 25.0 is outside the parameter's valid range: must be <= 20"),
    ("parameters:\n  strategies.december_fade.params.stop_atr: [0, 1]\n",
     "value 0 is outside the parameter's valid range: must be > 0"),
    ("parameters:\n  strategies.december_fade.params.rally_pct: []\n", "the grid would be empty"),
    ("parameters:\n  strategies.december_fade.params.rally_pct: {low: 1, high: 2}\n",
     "a grid needs values or a range with a step"),
    ("parameters:\n  broker.slipage_pct: [0.01]\n", "unknown parameter (did you mean 'slippage_pct'?)"),
    ("parameters:\n  strategies.december_fade.params.rally_pct: [1]\nobjective: {metric: sharp}\n",
     "unknown metric 'sharp' (did you mean 'sharpe'?)"),
    ("parameters:\n  strategies.december_fade.params.rally_pct: [1]\nsearch: {method: optuna}\n",
     "method optuna needs trials"),
    ("parameters:\n  strategies.december_fade.params.rally_pct: [1]\nconstraints: [{metric: trades}]\n",
     "give min, max or both"),
    ("parameters:\n  strategies.december_fade.params.rally_pct: [1]\nwalk_forward: {train_years: 5}\n",
     "too short for 5 training + 1 test year(s)"),
    ("parameters:\n  strategies.december_fade.params.rally_pct: [1]\nobjectiv: {metric: sharpe}\n",
     "objectiv (line 6): unknown key (did you mean 'objective'?)"),
]


@pytest.mark.parametrize("body, message", BAD_SWEEPS)
def test_bad_sweep_files_exit_2_with_a_precise_message(sweep_dir, capsys, body, message):
    sweep = sweep_dir / "bad.yaml"
    sweep.write_text(f"name: bad\nbase: base.yaml\nstrategies: [december_fade]\n{body}")
    code = main(["optimize", "-c", str(sweep), "--no-progress", "--out", str(sweep_dir / "run")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err
    assert str(sweep) in err
    assert "Traceback" not in err
    assert not (sweep_dir / "run" / "results.csv").exists()


def test_missing_base_and_unknown_strategy(sweep_dir, capsys):
    sweep = sweep_dir / "bad.yaml"
    sweep.write_text("name: bad\nbase: nowhere.yaml\nparameters: {broker.cash: [1000]}\n")
    assert main(["optimize", "-c", str(sweep)]) == 2
    assert "no such config file" in capsys.readouterr().err
    sweep.write_text("name: bad\nbase: base.yaml\nstrategies: [december]\nparameters: {broker.cash: [1000]}\n")
    assert main(["optimize", "-c", str(sweep)]) == 2
    assert "'december' is not in the base config" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["december_fade", "january_snapback", "vwap_close_fade"])
def test_shipped_sweeps_are_valid(name):
    from runner.optimize.sweep_config import load_sweep

    path = Path(__file__).resolve().parents[2] / "config" / "sweeps" / f"{name}.yaml"
    sweep = load_sweep(path)
    assert sweep.parameters and sweep.spec.strategies == [name]


@pytest.mark.parametrize("overrides", [
    {"strategies.december_fade.params.rally_pct": 1.0, "strategies.december_fade.params.stop_atr": 1.0},
    {"strategies.january_snapback.params.five_day_return_pct": -1.0},
])
def test_a_sweep_run_trades_exactly_like_flowbot_backtest(overrides):
    """Sweep workers use a faster-loading feed; equity and trades must not change."""
    from runner.backtest.run import run_backtest
    from runner.config import apply_override, read_yaml, validate_config
    from runner.data.load import load_run_bars
    from runner.optimize.runs import run_once

    raw, _ = read_yaml(Path(__file__).resolve().parents[2] / "config" / "backtest.yaml")
    for entry in raw["strategies"]:
        entry["enabled"] = entry["name"] in {key.split(".")[1] for key in overrides}
    for key, value in overrides.items():
        apply_override(raw, key, value, "test")
    cfg = validate_config(raw, "test")
    equity, trades = run_once(cfg, load_run_bars(cfg))
    reference = run_backtest(cfg)
    assert len(trades) > 0
    assert equity.equals(reference.equity.drop(columns="strategy"))
    assert trades.equals(reference.trades)
