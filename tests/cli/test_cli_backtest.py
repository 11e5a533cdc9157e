"""End to end: the flowbot command as a user runs it."""
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from runner.cli import main
from runner.backtest.recorder import TRADE_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
RUN_FILES = {"trades.csv", "orders.csv", "equity.csv", "metrics.json", "config.resolved.yaml", "report.html", "run.log"}


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_default_backtest_writes_the_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["backtest", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == RUN_FILES
    trades = pd.read_csv(out / "trades.csv")
    assert list(trades.columns) == TRADE_COLUMNS
    assert set(trades.strategy) == {"december_fade", "january_snapback", "vwap_close_fade"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert "total_return_pct" not in metrics          # no pooled headline over real and synthetic data
    for name in ("december_fade", "january_snapback", "vwap_close_fade"):
        figures = metrics["playbooks"][name]
        for key in ("total_return_pct", "cagr_pct", "sharpe", "sortino", "max_drawdown_pct", "trades",
                    "win_rate_pct", "profit_factor", "exposure_pct"):
            assert key in figures["performance"]
        assert {"per_year", "sample", "luck", "warnings", "against_windows", "data_label"} <= set(figures)
    assert metrics["playbooks"]["vwap_close_fade"]["data_label"] == "SYNTHETIC"
    december = metrics["playbooks"]["december_fade"]
    assert [row["year"] for row in december["per_year"]] == list(range(1999, 2019))
    assert december["sample"]["windows"] == 20
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "<script src" not in page and "http" not in page.split("</style>")[1]
    equity = pd.read_csv(out / "equity.csv")
    assert list(equity.columns) == ["strategy", "time", "value", "cash"]
    printed = capsys.readouterr().out
    assert "december_fade" in printed and "run folder" in printed


def test_resolved_config_runs_again_identically(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(["backtest", "--out", str(first)]) == 0
    assert main(["backtest", "-c", str(first / "config.resolved.yaml"), "--out", str(second)]) == 0
    assert (first / "trades.csv").read_text() == (second / "trades.csv").read_text()


def test_strategy_selection_window_and_set(tmp_path):
    out = tmp_path / "run"
    code = main(["backtest", "--strategy", "december_fade", "--start", "2003-01-01", "--end", "2012-12-31",
                 "--set", "strategies.december_fade.params.rally_pct=1.0", "--out", str(out)])
    assert code == 0
    trades = pd.read_csv(out / "trades.csv")
    assert set(trades.strategy) <= {"december_fade"}
    assert trades.entry_time.str[:4].astype(int).between(2003, 2012).all()
    resolved = (out / "config.resolved.yaml").read_text()
    assert "rally_pct: 1.0" in resolved


def test_data_option_replaces_the_instrument(tmp_path):
    csv = tmp_path / "spx.csv"
    from runner.data.sample import load_sample

    bars = load_sample("sp500").loc["2005":"2010"]
    table = pd.DataFrame({"Date": bars.index.strftime("%Y-%m-%d"), "Open": bars.open, "High": bars.high,
                          "Low": bars.low, "Close": bars.close, "Adj Close": bars.adj_close, "Volume": bars.volume})
    table.to_csv(csv, index=False)
    out = tmp_path / "run"
    assert main(["backtest", "--strategy", "december_fade", "--data", str(csv), "--out", str(out)]) == 0
    equity = pd.read_csv(out / "equity.csv")
    assert equity.time.iloc[0].startswith("2005-01-03") and equity.time.iloc[-1].startswith("2010-12-31")


@pytest.mark.parametrize("argv,needle", [
    (["backtest", "-c", "nope.yaml"], "nope.yaml: no such config file"),
    (["backtest", "--strategy", "nosuch"], "--strategy nosuch: not in"),
    (["backtest", "--start", "2019-13-01"], "expected a date YYYY-MM-DD"),
    (["backtest", "--start", "2010-01-01", "--end", "2005-01-01"], "is after"),
    (["backtest", "--start", "2027-01-01"], "no bars between 2027-01-01"),
    (["backtest", "--set", "rally_pct"], "expected dotted.key=value"),
    (["backtest", "--set", "strategies.december_fade.params.rally_pct=-1.5"], "rally_pct"),
    (["backtest", "--set", "broker.cash=lots"], "broker.cash"),
    (["backtest", "--data", "missing.csv"], "missing.csv: no such data file"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_message(argv, needle, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "o")] if argv[0] == "backtest" else argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()   # nothing written for a refused run


def test_out_folder_with_results_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "trades.csv").write_text("precious\n")
    assert main(["backtest", "--out", str(out)]) == 2
    assert (out / "trades.csv").read_text() == "precious\n"
    assert "not empty" in capsys.readouterr().err


def test_a_taken_out_folder_is_refused_before_any_data_is_read(tmp_path, capsys, monkeypatch):
    import runner.data.load as load

    out = tmp_path / "run"
    out.mkdir()
    (out / "trades.csv").write_text("precious\n")
    read = []
    monkeypatch.setattr(load, "load_run_bars", lambda cfg: read.append(cfg) or {})
    assert main(["backtest", "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert read == [], "the bars were loaded before the --out folder was checked"


def test_console_script_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("strategies:\n  - name: december_fade\n    symbol: SPX\n    data: sample:sp500\n    params: {rally_pct: [1\n")
    proc = subprocess.run([sys.executable, "-m", "runner", "config", "check", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{bad}: line 6" in proc.stderr


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for command in ("backtest", "paper", "config"):
        assert command in text


def test_console_level_comes_from_the_config(tmp_path, capfd):
    assert main(["backtest", "--strategy", "december_fade", "--set", "logging.level=WARNING",
                 "--out", str(tmp_path / "run")]) == 0
    err = capfd.readouterr().err
    assert " INFO " not in err
    assert "filled" in (tmp_path / "run" / "run.log").read_text()   # the file sink keeps everything
