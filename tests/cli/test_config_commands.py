"""flowbot config check/show: run configs and sweep files, -c like the other commands, the shipped copies."""
from pathlib import Path

import pytest

from runner.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_check_defaults_to_the_backtest_config(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["config", "check"]) == 0
    assert capsys.readouterr().out.startswith("config/backtest.yaml: ok (3 strategies")


def test_check_takes_c_like_the_other_commands(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["config", "check", "-c", "config/paper.yaml"]) == 0
    assert capsys.readouterr().out.startswith("config/paper.yaml: ok")
    assert main(["config", "check", "config/paper.yaml", "-c", "config/backtest.yaml"]) == 2
    assert "give the file once" in capsys.readouterr().err


def test_check_a_sweep_file(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["config", "check", "config/sweeps/december_fade.yaml"]) == 0
    out = capsys.readouterr().out
    assert "ok (sweep december_fade: a grid of" in out and "december_fade.rally_pct" in out


def test_check_reports_a_bad_sweep_value(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    sweep = tmp_path / "bad.yaml"
    sweep.write_text(f"name: bad\nbase: {ROOT / 'config/backtest.yaml'}\nstrategies: [december_fade]\n"
                     "parameters:\n  strategies.december_fade.params.rally_pct: [1.0, -2.0]\n"
                     "search: {method: grid}\nobjective: {metric: sharpe, direction: maximize}\n")
    assert main(["config", "check", str(sweep)]) == 2
    err = capsys.readouterr().err
    assert "parameters.strategies.december_fade.params.rally_pct" in err and "-2.0" in err


def test_outside_the_repository_config_paths_find_the_shipped_copies(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["config", "show", "config/backtest.yaml"]) == 0
    assert "name: year-end-daily" in capsys.readouterr().out
    assert main(["config", "check", "config/sweeps/january_snapback.yaml"]) == 0
    assert "ok (sweep january_snapback" in capsys.readouterr().out
    assert main(["config", "check", "config/nothing.yaml"]) == 2
    assert "no such config file" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["config", "show"], ["config", "show", "-c", "config/backtest.yaml"]])
def test_show_defaults_and_c(args, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main([*args, "--set", "broker.cash=5000"]) == 0
    assert "cash: 5000" in capsys.readouterr().out


def test_a_sweep_outside_the_repository_finds_the_shipped_base(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text("name: mine\nbase: config/backtest.yaml\nstrategies: [december_fade]\n"
                                        "parameters:\n  strategies.december_fade.params.rally_pct: [1.0, 2.0]\n")
    assert main(["config", "check", "mine.yaml"]) == 0
    assert "mine.yaml: ok (sweep mine: a grid of 2 runs" in capsys.readouterr().out
    (tmp_path / "typo.yaml").write_text("name: typo\nbase: config/backtset.yaml\n"
                                        "parameters:\n  strategies.december_fade.params.rally_pct: [1.0]\n")
    assert main(["config", "check", "typo.yaml"]) == 2
    assert "base (line 2): no such config file config/backtset.yaml" in capsys.readouterr().err
