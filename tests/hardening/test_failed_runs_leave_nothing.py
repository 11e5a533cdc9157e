"""A run that fails leaves no half-written run folder; a refused fetch writes nothing (no manifest, no journal)."""
import datetime as dt
import socket

import pytest

from hardening_probe import assert_one_clean_error, run_cli
from runner.backtest import run as backtest_run
from runner.errors import DataError

CONFIG = """name: t
strategies:
  - name: december_fade
    symbol: SPX
    data: sample:sp500
"""


def failing_with(exc):
    def run_backtest(cfg, bars=None, fast=True, on_playbook=None, config_yaml=None):   # runner.backtest.run's
        raise exc
    return run_backtest


@pytest.mark.parametrize("exc, code", [(DataError("d.csv: too few bars"), 2), (RuntimeError("a bug"), 1),
                                       (KeyboardInterrupt(), 130)])
@pytest.mark.parametrize("where", ["default", "new --out", "empty --out", "new output.folder"])
def test_a_backtest_that_fails_mid_run_leaves_no_folder(exc, code, where, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(backtest_run, "run_backtest", failing_with(exc))
    (tmp_path / "c.yaml").write_text(CONFIG + ("output: {folder: runs/nested}\n" if where == "new output.folder" else ""))
    args = ["backtest", "-c", "c.yaml"]
    if where.endswith("--out"):
        args += ["--out", "mine"]
        if where == "empty --out":
            (tmp_path / "mine").mkdir()
    if where == "default":
        (tmp_path / "logs").mkdir()   # logs/ was there before: it stays
    code_got, _, err, made = run_cli(args, tmp_path, capsys, monkeypatch)
    assert code_got == code, err
    assert "Traceback" not in err
    crash_log = {"logs", "logs/flowbot-crash.log"} if code == 1 and where != "default" else \
        {"logs/flowbot-crash.log"} if code == 1 else set()
    assert made == crash_log, made
    if where == "empty --out":
        assert list((tmp_path / "mine").iterdir()) == []
    if where == "default":
        assert [p.name for p in (tmp_path / "logs").iterdir() if p.name != "flowbot-crash.log"] == []


def test_backtraders_index_error_on_too_few_bars_is_a_data_error():
    namespace = {}
    exec(compile("def run():\n    raise IndexError('array assignment index out of range')\n",
                 "/site-packages/backtrader/linebuffer.py", "exec"), namespace)
    fake = type("Cerebro", (), {"run": staticmethod(namespace["run"])})
    with pytest.raises(DataError, match="SPX: 3 bar"):
        backtest_run._run_cerebro(fake, {"SPX": [1, 2, 3], "SPX.bonds": [1, 2, 3, 4]})

    def our_bug():
        raise IndexError("ours")
    with pytest.raises(IndexError):   # an IndexError of our own code stays a bug
        backtest_run._run_cerebro(type("Cerebro", (), {"run": staticmethod(our_bug)}), {"SPX": [1]})


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("out", [None, "new", "empty"])
def test_paper_with_an_unreachable_gateway_leaves_nothing(out, tmp_path, capsys, monkeypatch):
    args = ["paper", "--set", f"ib.port={closed_port()}", "--set", "ib.connect_timeout=2", "--duration", "5"]
    if out:
        args += ["--out", "session"]
        if out == "empty":
            (tmp_path / "session").mkdir()
    code, _, err, made = run_cli(args, tmp_path, capsys, monkeypatch)
    assert_one_clean_error(code, err, expect=3)
    assert " ERROR " not in err          # the IB library's own error line stays in the log
    assert made == set(), made
    if out == "empty":
        assert list((tmp_path / "session").iterdir()) == []


@pytest.fixture(scope="module")
def gateway():
    from runner.data.intraday_sample import synthetic_minute_bars
    from runner.sim import SimulatedGateway

    bars = synthetic_minute_bars(dt.date(2024, 1, 2), dt.date(2024, 1, 5), seed=3)
    gw = SimulatedGateway(bars={"SPY": bars}, speed=0, paused=True, pacing=False, start="2024-01-08 09:00",
                          wire_log=False).start()
    yield gw
    gw.stop()


def fetch(symbol, port, *extra):
    return ["fetch", "--symbol", symbol, "--bar-size", "1 day", "--start", "2024-01-02", "--end", "2024-01-05",
            "--set", f"ib.port={port}", "--set", "ib.client_id=31", "--no-progress", *extra]


@pytest.mark.parametrize("symbol", ["NOSUCH", "ZZZZ", "AB.CD"])
def test_a_refused_fetch_writes_nothing(symbol, gateway, tmp_path, capsys, monkeypatch):
    code, _, err, made = run_cli(fetch(symbol, gateway.port), tmp_path, capsys, monkeypatch)
    assert "IB does not know the stock" in assert_one_clean_error(code, err)
    assert made == set(), made            # no empty manifest, no journal beside the cache


@pytest.mark.parametrize("symbol", ["../../x", "a/b", "..", "x" * 100])
def test_a_symbol_that_would_leave_the_cache_is_refused_before_connecting(symbol, tmp_path, capsys, monkeypatch):
    code, _, err, made = run_cli(fetch(symbol, closed_port()), tmp_path, capsys, monkeypatch)
    assert "it becomes part of a file name" in assert_one_clean_error(code, err)
    assert made == set()


def test_a_fetch_that_works_opens_no_journal(gateway, tmp_path, capsys, monkeypatch):
    code, out, err, made = run_cli(fetch("SPY", gateway.port, "--set", "ib.journal=j.sqlite"),
                                   tmp_path, capsys, monkeypatch)
    assert code == 0, err
    assert not [p for p in made if "journal" in p or p.endswith(".sqlite")], made
    assert "logs/cache/SPY/1d.parquet" in made


@pytest.mark.parametrize("cache", ["afile", "afile/below", "/dev/null"])
def test_a_cache_that_is_a_file_is_refused_before_connecting(cache, tmp_path, capsys, monkeypatch):
    (tmp_path / "afile").write_text("x")
    code, _, err, made = run_cli(fetch("SPY", closed_port(), "--cache", cache), tmp_path, capsys, monkeypatch)
    assert "cache folder" in assert_one_clean_error(code, err)   # not "cannot reach the gateway"
    assert made == set()


@pytest.mark.parametrize("cache", [None, "new/cache"])
def test_a_fetch_that_cannot_reach_the_gateway_writes_nothing(cache, tmp_path, capsys, monkeypatch):
    extra = ["--set", "ib.connect_timeout=2"] + (["--cache", cache] if cache else [])
    code, _, err, made = run_cli(fetch("SPY", closed_port(), *extra), tmp_path, capsys, monkeypatch)
    assert "cannot reach IB gateway" in assert_one_clean_error(code, err, expect=3)
    assert " ERROR " not in err
    assert made == set(), made


@pytest.mark.parametrize("start, end, expected", [
    ("1800-01-01", "1800-02-01", "expected a date from 1990-01-01 (the first year of the NYSE calendar"),
    ("1985-01-01", "2024-01-05", "from 1990-01-01"),
    ("2024-01-06", "2024-01-07", "no NYSE session"), ("2024-02-01", "2024-01-05", "is after --end"),
])
def test_fetch_windows_refused_before_connecting(start, end, expected, tmp_path, capsys, monkeypatch):
    args = fetch("SPY", closed_port())
    args[args.index("2024-01-02")] = start
    args[args.index("2024-01-05")] = end
    code, _, err, made = run_cli(args, tmp_path, capsys, monkeypatch)
    assert expected in assert_one_clean_error(code, err)
    assert made == set()
