"""`flowbot paper` as a process: kill -9 and restart without duplicate orders; SIGTERM/Ctrl-C end cleanly."""
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from runner.config import DataSource
from runner.data.load import load_source
from runner.sim import SimulatedGateway

from harness import PATIENCE, REPLAY_PATIENCE, wait_for
from kill_harness import FollowBot

ROOT = Path(__file__).resolve().parents[2]
SNAPBACK = {"five_day_return_pct": -1.0, "opex_return_pct": -2.0, "hold_sessions": 5, "stop_atr": 2.0,
            "target": "retracement", "entry": "last_close"}


@pytest.fixture(scope="module")
def spx():
    """Real daily S&P 500 bars around the 2012 year end, when the January snapback fires."""
    bars = load_source(DataSource(sample="sp500"))
    return bars.loc["2011-06-01":"2013-01-31", ["open", "high", "low", "close", "volume"]]


def write_config(tmp_path: Path, port: int, library: str) -> Path:
    raw = {
        "name": "process-test",
        "strategies": [{"name": "january_snapback", "symbol": "SPX", "data": "sample:sp500", "params": SNAPBACK}],
        "ib": {"port": port, "client_id": 7, "library": library, "journal": str(tmp_path / "journal.sqlite"),
               "backfill_bars": 300, "connect_timeout": 30, "backoff_initial": 0.1, "pacing_backoff": 0.2},
        "output": {"folder": str(tmp_path / "logs"), "report": False},
    }
    path = tmp_path / "paper.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def start_paper(config: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "runner", "paper", "-c", str(config), "--out", str(out), *extra],
                            cwd=config.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def journal_refs(path: Path) -> list[str]:
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        try:
            return [r[0] for r in db.execute("SELECT order_ref FROM orders")]
        except sqlite3.OperationalError:   # created but schema not written yet
            return []


def streaming(gw) -> bool:
    """True once a client subscribes to real-time bars, i.e. its backfill is done."""
    return bool(gw.realtime_subscriptions())


def live(run_folder: Path) -> bool:
    """True once the bot says it has replayed its history and trades live."""
    log = run_folder / "run.log"
    return log.exists() and "live from here" in log.read_text()


def test_kill_9_and_restart_never_sends_an_order_twice(library, spx, tmp_path):
    """Once each run is live, the gateway waits at every session close until the bot has acted on the day
    (kill_harness.FollowBot), never for a fixed time: a slow bot cannot fall behind the replay."""
    gw = SimulatedGateway(bars={"SPX": spx}, speed=0, start="2012-12-20 09:30", paused=True, wire_log=False,
                          pacing_time_scale=0.01)
    journal = tmp_path / "journal.sqlite"
    with gw:
        config = write_config(tmp_path, gw.port, library)
        first = start_paper(config, tmp_path / "run1")
        follower = FollowBot(gw, journal, client_id=7)
        try:
            assert wait_for(lambda: live(tmp_path / "run1"), 60), "first process is live"
            follower.start(tmp_path / "run1", feeds=1)
            gw.resume()
            assert wait_for(lambda: journal_refs(journal) or follower.failure, 60), "an order was journaled"
            assert follower.failure is None, follower.failure
            gw.pause()
            follower.stop()
            first.send_signal(signal.SIGKILL)
            first.wait(PATIENCE)   # a safety net: reaping a killed process is an event, not a speed
        finally:
            follower.stop()
            first.kill()
        assert first.returncode == -signal.SIGKILL
        assert wait_for(lambda: gw.connected_clients() == [], 10)

        second = start_paper(config, tmp_path / "run2")
        follower = FollowBot(gw, journal, client_id=7)
        try:
            assert wait_for(lambda: live(tmp_path / "run2"), 60), "second process is live"
            follower.start(tmp_path / "run2", feeds=1)
            gw.resume()
            assert wait_for(lambda: gw.wait_until_done(0) or follower.failure, REPLAY_PATIENCE)
            assert follower.failure is None, follower.failure
            assert wait_for(lambda: len(gw.orders()) >= 3, 30), "entry, then its stop and target"
            follower.stop()
            second.send_signal(signal.SIGTERM)
            output, _ = second.communicate(timeout=PATIENCE)
        finally:
            follower.stop()
            second.kill()
        at_gateway = gw.orders()
        fills = gw.fills()
    refs = [o.order_ref for o in at_gateway]
    assert second.returncode == 0, output.decode()[-3000:]
    assert len(refs) == len(set(refs)), f"an orderRef reached the gateway twice: {refs}"
    entries = [o for o in at_gateway if o.order_type == "MOC" and o.action == "BUY"]
    assert len(entries) == 1 and entries[0].status == "Filled"
    assert sum(f.shares for f in fills if f.side == "BOT") == entries[0].quantity
    run2 = tmp_path / "run2"
    for name in ("orders.csv", "trades.csv", "equity.csv", "metrics.json", "config.resolved.yaml", "run.log"):
        assert (run2 / name).exists(), name
    orders = pd.read_csv(run2 / "orders.csv")
    assert "Completed" in set(orders["status"])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_end_the_session_cleanly(library, spx, tmp_path, sig):
    gw = SimulatedGateway(bars={"SPX": spx}, speed=600, start="2012-12-20 09:30", wire_log=False,
                          pacing_time_scale=0.01)
    with gw:
        config = write_config(tmp_path, gw.port, library)
        proc = start_paper(config, tmp_path / "run")
        try:
            assert wait_for(lambda: streaming(gw), 60)
            proc.send_signal(sig)
            output, _ = proc.communicate(timeout=PATIENCE)
        finally:
            proc.kill()
        assert wait_for(lambda: gw.connected_clients() == [], 10), "disconnected"
    assert proc.returncode == 0, output.decode()[-3000:]
    assert (tmp_path / "run" / "orders.csv").exists() and (tmp_path / "run" / "run.log").exists()


def test_duration_ends_the_session(library, spx, tmp_path):
    gw = SimulatedGateway(bars={"SPX": spx}, speed=600, start="2012-12-20 09:30", wire_log=False,
                          pacing_time_scale=0.01)
    with gw:
        config = write_config(tmp_path, gw.port, library)
        proc = start_paper(config, tmp_path / "run", "--duration", "3")
        output, _ = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 0, output.decode()[-3000:]
    assert "--duration 3 s elapsed" in (tmp_path / "run" / "run.log").read_text()


def test_live_port_exits_2_before_connecting(tmp_path):
    config = write_config(tmp_path, 4001, "ib_insync")
    proc = start_paper(config, tmp_path / "run")
    output, _ = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 2
    assert "4001 is a live-trading port" in output.decode()
    assert not (tmp_path / "run").exists(), "nothing written"


def test_unreachable_gateway_exits_3_naming_host_and_port(tmp_path, free_port):
    config = write_config(tmp_path, free_port, "ib_insync")
    proc = start_paper(config, tmp_path / "run")
    output, _ = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 3
    assert f"127.0.0.1:{free_port}" in output.decode()


def test_unknown_contract_exits_2_naming_the_symbol(library, spx, tmp_path):
    gw = SimulatedGateway({"SPY": spx}, speed=0, paused=True, warmup_sessions=300).start()
    try:
        config = write_config(tmp_path, gw.port, library)   # trades "SPX", which the gateway does not list
        proc = start_paper(config, tmp_path / "run", "--duration", "600")
        output, _ = proc.communicate(timeout=PATIENCE)
    finally:
        gw.stop()
    text = output.decode()
    assert proc.returncode == 2, text
    assert "IB does not know the stock 'SPX'" in text and "Traceback" not in text


def test_a_journal_in_use_by_another_session_exits_2_at_start(library, spx, tmp_path):
    from runner.ib.journal import Journal

    holder = Journal(tmp_path / "journal.sqlite")   # another session holds it (the lock is per open file)
    gw = SimulatedGateway({"SPX": spx}, speed=0, paused=True, warmup_sessions=300, wire_log=False).start()
    try:
        config = write_config(tmp_path, gw.port, library)
        proc = start_paper(config, tmp_path / "run")
        output, _ = proc.communicate(timeout=PATIENCE)
        placed = gw.orders()
    finally:
        gw.stop()
        holder.close()
    text = output.decode()
    assert proc.returncode == 2, text[-3000:]
    assert "journal.sqlite is in use by flowbot pid" in text and "Traceback" not in text
    assert placed == []
