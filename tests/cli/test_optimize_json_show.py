"""flowbot optimize --json / -q, and flowbot show / compare of a sweep's run folder: the record the
sweep's terminal summary printed (summary.json), as JSON with no pandas text in it."""
import json

import pytest

from runner.cli import main

BASE = """\
name: tiny
start: 2006-01-01
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

SWEEP = """\
name: known
base: base.yaml
parameters:
  strategies.december_fade.params.rally_pct: [1.0, 1.5]
objective: {metric: total_return_pct, direction: maximize}
walk_forward: {train_years: 3, test_years: 1}
"""


@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "base.yaml").write_text(BASE.format(logs=folder / "logs"))
    (folder / "sweep.yaml").write_text(SWEEP)
    return folder


def test_optimize_json_is_one_object_with_folds_and_trust(sweep_run, capsys):
    out = sweep_run / "run"
    assert main(["optimize", "-c", str(sweep_run / "sweep.yaml"), "--workers", "1", "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)   # the whole of stdout is one JSON object
    assert data["folder"] == str(out) and data["kind"] == "optimize" and data["runs"] == 2
    assert data["best"]["run"] in (0, 1) and data["parameters"] == ["december_fade.rally_pct"]
    assert [f["label"] for f in data["walk_forward"]["folds"]] == ["2009", "2010", "2011", "2012"]
    assert set(data["walk_forward"]) == {"folds", "summary"}   # no equity curve printed as pandas text
    assert "DataFrame" not in captured.out and "\\n0 " not in captured.out
    assert data["trust"]["data"] == "december_fade [REAL+PROXY]"
    assert any("tunes december_fade only" in n for n in data["notes"])
    assert json.loads((out / "summary.json").read_text()) == data
    assert "top runs" not in captured.out and "top runs" not in captured.err


@pytest.fixture(scope="module")
def finished_sweep(sweep_run):
    """A finished sweep of its own: the show tests do not depend on another test (maybe run by another
    xdist worker) having made one."""
    out = sweep_run / "shown"
    assert main(["-q", "optimize", "-c", str(sweep_run / "sweep.yaml"), "--workers", "1", "--out", str(out)]) == 0
    return out


def test_show_reprints_the_sweep_summary_as_it_finished(finished_sweep, capsys):
    out = finished_sweep
    capsys.readouterr()
    assert main(["show", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "flowbot optimize known on december_fade [REAL+PROXY]: top runs by total_return_pct" in shown
    assert "walk-forward on december_fade [REAL+PROXY]" in shown and "trials searched" in shown
    assert f"best.yaml ready: flowbot backtest -c {out / 'best.yaml'}" in shown
    assert main(["show", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["walk_forward"]["summary"]["test_years"] == "2009-2012"
    assert main(["show", str(out), "-q"]) == 0
    assert capsys.readouterr().out.strip() == str(out)


def test_show_of_a_sweep_without_summary_json_still_lists_its_best_runs(finished_sweep, capsys):
    import shutil

    older = finished_sweep.parent / "older"
    shutil.copytree(finished_sweep, older)
    capsys.readouterr()
    (older / "summary.json").unlink()
    assert main(["show", str(older)]) == 0
    assert "flowbot optimize known: top runs by total_return_pct" in capsys.readouterr().out


def test_quiet_optimize_prints_only_the_run_folder(sweep_run, capsys):
    out = sweep_run / "quiet"
    assert main(["-q", "optimize", "-c", str(sweep_run / "sweep.yaml"), "--workers", "1", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
