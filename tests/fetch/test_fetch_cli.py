"""flowbot fetch end to end through the CLI, and a backtest that reads the cache (data.source=cache)."""
import datetime as dt
import json
import socket

import pytest

from runner.cli import main
from runner.data.intraday_sample import synthetic_minute_bars
from runner.sim import SimulatedGateway


@pytest.fixture(scope="module")
def gw():
    bars = synthetic_minute_bars(dt.date(2024, 1, 2), dt.date(2024, 1, 10), seed=5)
    gateway = SimulatedGateway(bars={"SPY": bars}, speed=0, paused=True, pacing=True, start="2024-01-11 09:00",
                               wire_log=False).start()
    yield gateway
    gateway.stop()


def fetch_args(gw, cache, *extra):
    return ["fetch", "--symbol", "SPY", "--start", "2024-01-01", "--end", "2024-01-10", "--set", f"ib.port={gw.port}",
            "--set", "ib.client_id=9", "--set", "ib.pacing_backoff=1", "--cache", str(cache), "--no-progress", *extra]


def test_fetch_then_backtest_from_the_cache(gw, tmp_path, capsys):
    cache = tmp_path / "cache"
    assert main(fetch_args(gw, cache)) == 0
    out = capsys.readouterr().out
    assert "SPY 1min: 2,730 bars" in out and "gaps: none" in out
    manifest = json.loads((cache / "SPY" / "1min.manifest.json").read_text())
    assert len(manifest["complete"]) == 7

    assert main(fetch_args(gw, cache, "--bar-size", "1 day")) == 0
    assert "SPY 1d: 7 bars" in capsys.readouterr().out

    run = tmp_path / "run"
    code = main(["backtest", "--strategy", "vwap_close_fade", "--set", "data.source=cache",
                 "--set", f"data.cache_folder={cache}", "--out", str(run)])
    assert code == 0
    resolved = (run / "config.resolved.yaml").read_text()
    assert "cache: SPY" in resolved
    equity = (run / "equity.csv").read_text().splitlines()
    assert equity[0].startswith("strategy,time") and equity[1].startswith("vwap_close_fade,2024-01-02")


def test_backtest_from_an_empty_cache_says_how_to_fill_it(tmp_path, capsys):
    code = main(["backtest", "--strategy", "vwap_close_fade", "--set", "data.source=cache",
                 "--set", f"data.cache_folder={tmp_path}", "--out", str(tmp_path / "run")])
    assert code == 2
    assert "flowbot fetch --symbol SPY --bar-size \"1 min\"" in capsys.readouterr().err


def test_unknown_symbol_is_exit_2(gw, tmp_path, capsys):
    args = fetch_args(gw, tmp_path)
    args[args.index("SPY")] = "NOSUCH"
    assert main(args) == 2
    assert "IB does not know the stock NOSUCH" in capsys.readouterr().err


def test_unreachable_gateway_is_exit_3(tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["fetch", "--symbol", "SPY", "--start", "2024-01-02", "--end", "2024-01-05", "--set", f"ib.port={port}",
            "--cache", str(tmp_path), "--no-progress"]
    assert main(args) == 3
    assert "cannot reach IB gateway" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--bar-size", "7 mins"], "--bar-size '7 mins'"),
    (["--what", "ADJUSTED_LAST"], "IB adjusts daily bars only"),
    (["--start", "2024-02-01"], "is after --end"),
])
def test_bad_arguments_are_exit_2(tmp_path, capsys, args, message):
    base = ["fetch", "--symbol", "SPY", "--start", "2024-01-02", "--end", "2024-01-05", "--set", "ib.port=1",
            "--cache", str(tmp_path), "--no-progress"]
    for i in range(0, len(args), 2):
        if args[i] in base:
            base[base.index(args[i]) + 1] = args[i + 1]
        else:
            base += args[i:i + 2]
    assert main(base) == 2
    assert message in capsys.readouterr().err
