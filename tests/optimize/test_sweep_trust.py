"""Issue 11: a sweep's summary, report, best.yaml and walk-forward table carry the data label, and say how
far the winner can be trusted (trades in and out of sample, trials searched, deflated Sharpe); blank
heatmap cells are explained."""
from __future__ import annotations

import math

import numpy as np
import pytest

from runner.optimize.sweep import optimize
from runner.report.luck import deflated_sharpe

from test_optimize import GRID, sweep_dir, write_sweep  # noqa: F401 - the fixture


def test_expected_max_sharpe_of_noise_matches_simulation():
    rng = np.random.default_rng(11)
    sessions, trials, sigma = 1000, 200, 0.02        # per-session Sharpe spread of the trials
    annual = math.sqrt(252)
    sharpes = list(rng.normal(0.0, sigma, trials) * annual)
    d = deflated_sharpe(max(sharpes), sharpes, sessions)
    spread = np.std(np.array(sharpes) / annual, ddof=1)
    simulated = np.mean(rng.normal(0.0, spread, (4000, trials)).max(axis=1)) * annual
    assert d["expected_max_sharpe_of_noise"] == pytest.approx(simulated, rel=0.05)
    assert d["haircut_sharpe"] == pytest.approx(max(sharpes) - d["expected_max_sharpe_of_noise"], abs=1e-3)
    # The best of pure noise is not distinguishable from noise; a real edge far above it is.
    assert d["deflated_sharpe_probability"] < 0.95
    strong = deflated_sharpe(3.0, sharpes, 5000)
    assert strong["deflated_sharpe_probability"] > 0.99
    # More trials searched: a higher bar for the same winner.
    fewer = deflated_sharpe(max(sharpes), sharpes[:10], sessions)
    assert fewer["expected_max_sharpe_of_noise"] < d["expected_max_sharpe_of_noise"]


def test_deflated_sharpe_not_computed_without_trials():
    assert deflated_sharpe(1.0, [1.0], 500)["deflated_sharpe_probability"] is None
    assert deflated_sharpe(None, [1.0, 2.0], 500)["haircut_sharpe"] is None


def test_sweep_says_its_data_and_how_far_the_winner_can_be_trusted(sweep_dir, capsys):  # noqa: F811
    text = GRID + "walk_forward: {train_years: 2, test_years: 1}\n"
    result = optimize(write_sweep(sweep_dir, text), workers=1, out=sweep_dir / "run", progress=False)
    trust = result.trust
    assert trust["data"] == "december_fade [REAL+PROXY]"
    assert trust["trials_searched"] == 6 and trust["winner_trades"] == result.best["trades"]
    assert trust["out_of_sample_trades"] == result.walk_forward["summary"]["oos_trades"]
    assert trust["deflated_sharpe"]["trials"] == 6
    assert any("too few to conclude anything" in w for w in trust["warnings"])
    printed = capsys.readouterr().out
    assert "on december_fade [REAL+PROXY]: top runs" in printed
    assert "6 trials searched" in printed and "out-of-sample trades" in printed and "deflated Sharpe" in printed
    page = (sweep_dir / "run" / "report.html").read_text()
    assert "Data: december_fade [REAL+PROXY]" in page
    assert "How far the winner can be trusted" in page and "6 trials searched" in page
    assert "A blank cell: no run with that pair of values met the constraints" in page
    assert "Walk-forward: in-sample against out-of-sample · december_fade [REAL+PROXY]" in page
    assert page.count("<td class='text'>december_fade [REAL+PROXY]</td>") == 3   # a data column in each fold's row
    record = result.provenance
    assert {"flowbot_version", "git_commit", "command_line", "config_sha256", "sweep_sha256"} <= set(record)
    assert "<h2>Reproducibility</h2>" in page and record["config_sha256"] in page
    shas = [f["sha256"] for source in record["data_files"] for f in source["files"]]
    assert len(shas) >= 2 and all(sha in page for sha in shas)   # the index and the bond proxy's files
    header = (sweep_dir / "run" / "best.yaml").read_text().split("name:")[0]
    assert "# data: december_fade [REAL+PROXY]" in header and "trials searched" in header


def test_a_synthetic_sweep_is_labelled_everywhere(sweep_dir, capsys):  # noqa: F811
    (sweep_dir / "vwap.yaml").write_text(
        "name: v\nstrategies:\n  - name: vwap_close_fade\n    symbol: SPY\n    data: sample:spy_1min_synthetic\n")
    text = """\
    name: vwap
    base: vwap.yaml
    parameters:
      strategies.vwap_close_fade.params.k: [1.5, 2.0]
    search: {method: grid}
    objective: {metric: sharpe, direction: maximize}
    """
    result = optimize(write_sweep(sweep_dir, text), workers=1, out=sweep_dir / "run", progress=False)
    assert result.trust["synthetic"]
    assert "SYNTHETIC data: the sweep shows the mechanics and proves nothing" in result.trust["warnings"]
    assert "vwap_close_fade [SYNTHETIC]" in capsys.readouterr().out
    page = (sweep_dir / "run" / "report.html").read_text()
    assert "<div class='warning'>Data: vwap_close_fade [SYNTHETIC]</div>" in page
