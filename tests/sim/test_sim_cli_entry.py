"""``run_gateway_sim`` (behind ``flowbot gateway-sim``): serves a CSV folder, stops cleanly on SIGTERM."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import ib_insync
import pytest

from sim_data import PATIENCE, random_daily

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gateway_sim_serves_csv_bars_and_exits_0_on_sigterm(tmp_path):
    frame = random_daily(20)
    frame.index.name = "Date/time"
    frame.rename(columns=str.capitalize).to_csv(tmp_path / "SPY.csv", date_format="%Y-%m-%d")
    port = _free_port()
    code = (f"import sys; from runner.sim.cli_entry import run_gateway_sim; "
            f"sys.exit(run_gateway_sim({str(tmp_path)!r}, {port}, 0.0, warmup_sessions=10))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        ib = ib_insync.IB()
        deadline = time.monotonic() + PATIENCE   # the child's start-up (imports) is slow on a loaded machine
        while True:
            try:
                ib.connect("127.0.0.1", port, clientId=1, timeout=PATIENCE)
                break
            except (ConnectionRefusedError, OSError, TimeoutError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        spy = ib_insync.Stock("SPY", "SMART", "USD")
        assert ib.qualifyContracts(spy)
        assert len(ib.reqHistoricalData(spy, "", "1 M", "1 day", "TRADES", True)) >= 10
        ib.disconnect()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 0, out.decode()


def test_bad_fault_spec_is_a_data_error():
    from runner.errors import DataError
    from runner.sim.cli_entry import run_gateway_sim

    with pytest.raises(DataError, match="KIND@SECONDS"):
        run_gateway_sim(None, 0, 0.0, bars=random_daily(5), faults=["bogus"], warmup_sessions=1)


def test_the_stall_fault_silences_one_symbol_or_every_one():
    from runner.sim import SimulatedGateway
    from runner.sim.cli_entry import _fault_parts, _parse_fault

    assert _fault_parts("stall@60:spy") == ("stall", 60.0, "SPY")
    assert _fault_parts("stall@5") == ("stall", 5.0, None)
    gw = SimulatedGateway({"SPY": random_daily(5)}, speed=0, paused=True, wire_log=False).start()
    try:
        fake = type("Session", (), {"number": 9, "realtime": {3: "SPY", 4: "IWM"}})()   # a subscribed client
        gw._call(lambda: gw.server.sessions.add(fake))
        _parse_fault(gw, "stall@0:SPY")[2]()
        assert gw.faults.silent_requests == {(9, 3)}
        gw._call(lambda: gw.server.sessions.discard(fake))
    finally:
        gw.stop()
