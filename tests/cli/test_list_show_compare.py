"""flowbot list, show, compare, --version, -q and --json, in process through runner.cli.main."""
import json
import re
from pathlib import Path

import pytest

from runner.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_version(capsys):
    assert main(["--version"]) == 0
    from runner import __version__

    assert capsys.readouterr().out.strip() == f"flowbot {__version__}"


def test_list_prints_each_playbook_and_its_parameters(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("december_fade", "january_snapback", "vwap_close_fade"):
        assert re.search(rf"^{name} \(", out, re.M), name
    line = next(l for l in out.splitlines() if l.strip().startswith("rally_pct"))
    assert "1.5" in line and "0 < x <= 20" in line and "0.75 to 3" in line
    assert "next_open |" in out


def test_list_json_one_playbook():
    import io
    from contextlib import redirect_stdout

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert main(["list", "january_snapback", "--json"]) == 0
    data = json.loads(buffer.getvalue())
    [playbook] = data["playbooks"]
    assert playbook["name"] == "january_snapback" and playbook["direction"] == "long" and playbook["bars"] == "1 day"
    params = {p["name"]: p for p in playbook["parameters"]}
    assert params["hold_sessions"]["default"] == 5 and params["hold_sessions"]["valid"] == "1 <= x <= 15"
    assert params["hold_sessions"]["explore"] == [2, 10]
    assert params["five_day_return_pct"]["valid"] == "-30 <= x < 0"
    assert params["trail_atr"]["default"] is None


def test_list_unknown_name_lists_the_valid_ones(capsys):
    assert main(["list", "december_fad"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'december_fade'" in err and "vwap_close_fade" in err


def test_backtest_json_is_one_object_on_stdout_logs_on_stderr(tmp_path, capsys):
    assert main(["backtest", "--strategy", "december_fade", "--json", "--out", str(tmp_path / "run")]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)   # the whole of stdout is one JSON object
    assert data["folder"] == str(tmp_path / "run")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {k: v for k, v in data.items() if k != "folder"} == metrics   # metrics.json, as it is
    figures = data["playbooks"]["december_fade"]
    assert figures["performance"]["trades"] == 3 and "sharpe" in figures["performance"]
    assert figures["data_label"] == "REAL+PROXY"
    assert "backtest year-end-daily" in captured.err   # the logs went to stderr


def test_quiet_prints_only_the_run_folder(tmp_path, capsys):
    assert main(["backtest", "-q", "--strategy", "december_fade", "--out", str(tmp_path / "run")]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(tmp_path / "run")
    assert "INFO" not in captured.err


def test_show_reprints_a_backtest_summary(fade_runs, capsys):
    runs, first, second = fade_runs
    assert main(["show", str(first)]) == 0
    out = capsys.readouterr().out
    assert "flowbot backtest year-end-daily" in out and "december_fade" in out and f"run folder: {first}" in out
    assert main(["show", "latest", "--runs", str(runs)]) == 0
    assert f"run folder: {second}" in capsys.readouterr().out
    assert main(["show", "latest~1", "--runs", str(runs)]) == 0
    assert f"run folder: {first}" in capsys.readouterr().out
    assert main(["show", "fade-b", "--runs", str(runs), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "backtest" and data["trades"] == 4 and data["folder"] == str(second)
    assert data["playbooks"]["december_fade"]["performance"]["trades"] == 4


def test_show_refuses_a_run_folder_of_an_older_flowbot_in_one_line(tmp_path, capsys):
    old = tmp_path / "old-run"
    old.mkdir()
    (old / "metrics.json").write_text(json.dumps({"run": "x", "trades": 3, "baseline": {}}))
    assert main(["show", str(old)]) == 2
    err = capsys.readouterr().err
    assert "older flowbot" in err and "--json" in err and "Traceback" not in err
    assert main(["show", str(old), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["trades"] == 3


def test_show_unknown_run_names_the_latest_ones(fade_runs, capsys):
    runs, _, _ = fade_runs
    assert main(["show", "nothing-like-it", "--runs", str(runs)]) == 2
    err = capsys.readouterr().err
    assert "no such run folder" in err and "fade-b" in err
    assert main(["show", "fade", "--runs", str(runs)]) == 2
    assert "2 runs" in capsys.readouterr().err


def test_compare_shows_figures_and_the_parameter_that_differs(fade_runs, capsys):
    runs, first, second = fade_runs
    assert main(["compare", str(first), str(second)]) == 0
    out = capsys.readouterr().out
    assert "return %" in out and "Sharpe" in out and "p (luck)" in out and "REAL+PROXY" in out
    row = next(l for l in out.splitlines() if "strategies.december_fade.params.rally_pct" in l)
    assert "1.5" in row and "1.0" in row
    trades_row = next(l for l in out.splitlines() if l.strip("│ ").startswith("trades"))
    assert [c.strip() for c in trades_row.split("│")][2:4] == ["3", "4"]
    assert main(["compare", "latest~1", "latest", "--runs", str(runs), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["differences"] == {"strategies.december_fade.params.rally_pct": [1.5, 1.0]}
    assert data["playbooks"] == ["december_fade"]
    assert data["figures"]["december_fade: trades"] == [3, 4]
    figures = [json.loads((run / "metrics.json").read_text())["playbooks"]["december_fade"] for run in (first, second)]
    assert data["figures"]["december_fade: Sharpe"] == [f["performance"]["sharpe"] for f in figures]
    assert data["figures"]["december_fade: p (luck)"] == [f["luck"]["p_value"] for f in figures]
    assert data["figures"]["december_fade: hold %"] == [f["buy_and_hold_pct"] for f in figures]


def test_compare_needs_two_runs(fade_runs, capsys):
    _, first, _ = fade_runs
    assert main(["compare", str(first)]) == 2
    assert "at least two runs" in capsys.readouterr().err


def test_every_subcommand_help_has_a_description_and_examples(capsys):
    from runner.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert {"backtest", "paper", "config", "optimize", "list", "show", "compare", "new"} <= set(commands)
    for name in [*commands, "config check", "config show", "new playbook"]:
        assert main([*name.split(), "--help"]) == 0
        out = capsys.readouterr().out
        assert "examples:" in out, name
        examples = [l for l in out.split("examples:")[1].splitlines() if l.strip().startswith("flowbot")
                    or l.strip().startswith("pytest")]
        assert 2 <= len(examples) <= 4, (name, examples)
        assert "-q, --quiet" in out or name in ("config", "new"), name


def test_strategy_help_and_error_list_the_valid_names(capsys):
    assert main(["backtest", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "december_fade, january_snapback, vwap_close_fade" in out
    assert main(["backtest", "--strategy", "december_fad"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'december_fade'" in err and "valid names: december_fade, january_snapback" in err


def test_the_new_commands_import_no_heavy_library_to_build_their_parsers():
    import subprocess
    import sys

    code = ("import argparse, importlib, sys\n"
            "from runner.commands import help_text, output\n"
            "from runner.cli_args import add_set\n"
            "commands = argparse.ArgumentParser().add_subparsers()\n"
            "for name in ('list_cmd', 'show_cmd', 'compare_cmd', 'new_cmd'):\n"
            "    importlib.import_module('runner.commands.' + name).register(commands, add_set)\n"
            "heavy = [m for m in ('pandas', 'backtrader', 'matplotlib', 'ib_async', 'ib_insync', 'numpy') "
            "if m in sys.modules]\n"
            "print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_show_a_paper_run_says_paper_and_its_shared_account(fade_runs, tmp_path, capsys):
    import shutil

    _, first, _ = fade_runs
    paper = tmp_path / "paper-run"
    shutil.copytree(first, paper)
    metrics = json.loads((paper / "metrics.json").read_text())
    figures = metrics["playbooks"]["december_fade"]
    account = {k: figures["performance"][k] for k in ("total_return_pct", "max_drawdown_pct", "net_pnl", "trades")}
    figures["performance"] = {"trades": figures["performance"]["trades"]}   # a shared account: trades' figures only
    metrics.update(mode="paper", **account)
    (paper / "metrics.json").write_text(json.dumps(metrics))
    assert main(["show", str(paper)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "flowbot paper year-end-daily: the playbooks share the paper account" in out and "own account" not in out
    assert f"paper account: net P&L {account['net_pnl']:,.2f} over 3 trades" in out
