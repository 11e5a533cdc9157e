"""Your own playbooks: class: module:Class, playbooks_path, flowbot new playbook and its golden test."""
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from runner.cli import main
from runner.commands.new_cmd import write_playbook

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, entry: dict, **top) -> Path:
    raw = {"name": "mine", **top, "strategies": [{"symbol": "SPX", "data": "sample:sp500", **entry}]}
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture
def package(tmp_path, monkeypatch, clean_registry):
    """tmp_path/mypkg_cv/year_end.py holds the template's playbook as class YearEnd; cwd is tmp_path."""
    write_playbook("year_end", tmp_path / "template")
    (tmp_path / "mypkg_cv").mkdir()
    (tmp_path / "mypkg_cv" / "__init__.py").write_text("")
    (tmp_path / "mypkg_cv" / "year_end.py").write_text((tmp_path / "template" / "year_end.py").read_text())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_class_entry_runs_like_a_builtin(package, capsys):
    config = _config(package, {"name": "my_year_end", "class": "mypkg_cv.year_end:YearEnd",
                               "params": {"ytd_min_pct": 10.0}})
    out = package / "run"
    assert main(["backtest", "-c", str(config), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "my_year_end" in printed
    trades = pd.read_csv(out / "trades.csv")
    assert len(trades) > 0 and set(trades.strategy) == {"my_year_end"}
    resolved = (out / "config.resolved.yaml").read_text()
    assert "class: mypkg_cv.year_end:YearEnd" in resolved and "sessions_before_year_end: 3" in resolved
    assert main(["backtest", "-q", "-c", str(out / "config.resolved.yaml"), "--out", str(package / "again")]) == 0
    assert (package / "again" / "trades.csv").read_text() == (out / "trades.csv").read_text()


def test_its_parameters_are_validated_like_a_builtin(package, capsys):
    config = _config(package, {"name": "my_year_end", "class": "mypkg_cv.year_end:YearEnd",
                               "params": {"hold_sessions": 40, "ytd_min": 1}})
    assert main(["config", "check", str(config)]) == 2
    err = capsys.readouterr().err
    assert "strategies[0].params.hold_sessions" in err and "must be <= 15 (got 40)" in err
    assert "strategies[0].params.ytd_min" in err


def test_list_shows_your_playbook(package, capsys):
    config = _config(package, {"name": "my_year_end", "class": "mypkg_cv.year_end:YearEnd"})
    assert main(["list", "my_year_end", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("my_year_end (1 day bars, long; mypkg_cv.year_end:YearEnd): year_end: buy late December")
    assert "hold_sessions" in out


@pytest.mark.parametrize("entry, message", [
    ({"name": "x", "class": "mypkg_cv.nothing:X"}, "cannot import 'mypkg_cv.nothing'"),
    ({"name": "x", "class": "mypkg_cv.year_end:Nope"}, "has no 'Nope'; its playbook classes: YearEnd"),
    ({"name": "x", "class": "mypkg_cv.year_end:YearEndParams"}, "is not a playbook class"),
    ({"name": "x", "class": "mypkg_cv.year_end"}, "expected package.module:ClassName"),
    ({"name": "december_fade", "class": "mypkg_cv.year_end:YearEnd"}, "is a built-in playbook"),
    ({"name": "unknown_one"}, "your own playbook: add class: package.module:ClassName"),
])
def test_bad_class_entries_are_one_clear_message(package, entry, message, capsys):
    assert main(["config", "check", str(_config(package, entry))]) == 2
    err = capsys.readouterr().err
    assert "strategies[0]" in err and message in err and "Traceback" not in err


def test_a_module_that_fails_to_import_says_where(package, capsys):
    (package / "mypkg_cv" / "broken.py").write_text("x = 1\nraise RuntimeError('oops')\n")
    assert main(["config", "check", str(_config(package, {"name": "b", "class": "mypkg_cv.broken:B"}))]) == 2
    err = capsys.readouterr().err
    assert "broken.py, line 2: RuntimeError: oops" in err


def test_playbooks_path_folder(tmp_path, monkeypatch, clean_registry, capsys):
    monkeypatch.chdir(tmp_path)
    write_playbook("late_dec_cv", tmp_path / "mine")
    config = _config(tmp_path, {"name": "late_dec_cv"}, playbooks_path="mine")
    assert main(["backtest", "-q", "-c", str(config), "--out", str(tmp_path / "run")]) == 0
    assert len(pd.read_csv(tmp_path / "run" / "trades.csv")) > 0
    bad = _config(tmp_path, {"name": "late_dec_cv"}, playbooks_path="nowhere")
    assert main(["config", "check", str(bad)]) == 2
    assert "playbooks_path: no such folder nowhere" in capsys.readouterr().err


def test_a_sweep_over_your_playbook(package, capsys):
    from runner.optimize.sweep import optimize

    config = _config(package, {"name": "my_year_end", "class": "mypkg_cv.year_end:YearEnd"})
    sweep = package / "sweep.yaml"
    sweep.write_text("name: mine\nbase: mine.yaml\nparameters:\n"
                     "  strategies.my_year_end.params.ytd_min_pct: [0.0, 10.0]\n"
                     "search: {method: grid}\nobjective: {metric: total_return_pct, direction: maximize}\n")
    assert main(["config", "check", str(sweep)]) == 0
    assert "a grid of 2 runs over my_year_end.ytd_min_pct" in capsys.readouterr().out
    result = optimize(sweep, workers=1, out=package / "sweep-run", progress=False, summary=False)
    assert result.ran == 2 and result.best is not None
    assert "class: mypkg_cv.year_end:YearEnd" in (package / "sweep-run" / "best.yaml").read_text()
    assert config.exists()


def test_new_playbook_writes_a_template_whose_golden_test_passes(tmp_path, capsys):
    assert main(["new", "playbook", "my_fade", "--folder", str(tmp_path / "playbooks")]) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "playbooks"
    assert {p.name for p in folder.iterdir()} >= {"my_fade.py", "my_fade.yaml", "test_my_fade.py",
                                                 "my_fade.golden.csv"}
    assert "trades on the sample" in out
    source = (folder / "my_fade.py").read_text()
    assert "class MyFadeParams(DailyPlaybookParams)" in source and "def decide(self, today" in source
    golden = pd.read_csv(folder / "my_fade.golden.csv")
    assert len(golden) > 0
    # The generated test passes as it is, in a fresh interpreter, from the user's folder.
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    # ... and it fails when the trades change.
    golden.loc[0, "pnl"] += 1.0
    golden.to_csv(folder / "my_fade.golden.csv", index=False)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode == 1 and "1 failed" in result.stdout


def test_new_playbook_refuses_bad_names_and_existing_files(tmp_path, capsys):
    assert main(["new", "playbook", "My-Fade", "--folder", str(tmp_path)]) == 2
    assert "expected a snake_case name" in capsys.readouterr().err
    assert main(["new", "playbook", "december_fade", "--folder", str(tmp_path)]) == 2
    assert "that name is taken" in capsys.readouterr().err
    assert main(["new", "playbook", "again", "--folder", str(tmp_path), "--no-golden"]) == 0
    assert main(["new", "playbook", "again", "--folder", str(tmp_path), "--no-golden"]) == 2
    assert "already exist" in capsys.readouterr().err


def test_builtin_names_match_the_registry():
    from runner.user_playbooks import BUILTIN
    from strategies.registry import STRATEGIES

    assert set(BUILTIN) <= set(STRATEGIES)
    assert set(BUILTIN) == {n for n, c in STRATEGIES.items() if c.__module__.startswith("strategies.")}


def test_list_says_how_to_list_your_playbook(tmp_path, monkeypatch, clean_registry, capsys):
    monkeypatch.chdir(tmp_path)
    write_playbook("late_dec_ls", tmp_path / "playbooks")
    assert main(["list", "late_dec_ls"]) == 2
    assert "playbooks/late_dec_ls.py is here: flowbot list late_dec_ls --playbooks-path playbooks" in \
        capsys.readouterr().err
    assert main(["list", "late_dec_ls", "--playbooks-path", "playbooks"]) == 0
    assert capsys.readouterr().out.startswith("late_dec_ls (1 day bars, long; late_dec_ls:")


def test_a_walk_forward_over_your_playbook_counts_trades_by_its_window_year(package, capsys):
    """The template buys late December and sells in January: each fold counts the trades of its
    window years, as the backtest's per-year rows do (by exit year each would sit one fold late)."""
    from runner.api import backtest
    from runner.optimize.sweep import optimize, read_results

    _config(package, {"name": "my_year_end", "class": "mypkg_cv.year_end:YearEnd"})
    sweep = package / "wf.yaml"
    sweep.write_text("name: wf\nbase: mine.yaml\nparameters:\n"
                     "  strategies.my_year_end.params.ytd_min_pct: [0.0]\n"
                     "objective: {metric: total_return_pct}\nwalk_forward: {train_years: 10, test_years: 1}\n")
    result = optimize(sweep, workers=1, out=package / "wf-run", progress=False, summary=False)
    row = read_results(package / "wf-run" / "results.csv")[0]
    per_year = {r["year"]: r["trades"]
                for r in backtest(package / "mine.yaml", set={"strategies.my_year_end.params.ytd_min_pct": 0.0})
                .figures("my_year_end")["per_year"]}
    labels = [f["label"] for f in result.walk_forward["folds"]]
    assert labels and all(row[f"wf.{label}.test.trades"] == per_year.get(int(label), 0) for label in labels)
    assert sum(per_year.get(int(label), 0) for label in labels) > 0
