"""The shipped paper configs run against the simulated gateway as they are (only ib.port pointed at it).

config/paper.yaml trades SPY, IWM and IEF (the fade's bond leg) at once; started before the 2012
year end it sends the January snapback's market-on-close entry on IWM. config/paper_vwap.yaml
streams SPY's 1-minute bars.
"""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from runner.sim import SimulatedGateway
from runner.sim.cli_entry import load_bars

from harness import PATIENCE, wait_for

ROOT = Path(__file__).resolve().parents[2]


def rehearsal_bars(name: str) -> dict:
    if name == "paper.yaml":   # gateway-sim's default dataset: SPY, IWM, IEF
        return {s: f.loc["2011-06-01":"2013-01-31"] for s, f in load_bars(None).items()}
    return load_bars("SPY=sample:spy_1min_synthetic")


@pytest.mark.parametrize("name, start, feeds", [("paper.yaml", "2012-12-26 09:30", 3),
                                               ("paper_vwap.yaml", None, 1)])
def test_a_shipped_paper_config_runs_against_the_simulator_unchanged(name, start, feeds, tmp_path):
    options = {"start": start} if start else {"warmup_sessions": 1}
    with SimulatedGateway(bars=rehearsal_bars(name), speed=0, paused=True, wire_log=False, pacing_time_scale=0.01,
                          session_pause=0.5, **options) as gw:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        log = open(tmp_path / "paper.out", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "runner", "paper", "-c", str(ROOT / "config" / name),
                                 "--set", f"ib.port={gw.port}", "--out", str(tmp_path / "run")],
                                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        run_log = tmp_path / "run" / "run.log"
        try:
            assert wait_for(lambda: proc.poll() is not None or (
                run_log.exists() and run_log.read_text().count("live from here") >= feeds)), "live on every feed"
            assert proc.poll() is None, (tmp_path / "paper.out").read_text()[-3000:]
            gw.resume()
            if name == "paper.yaml":
                assert wait_for(lambda: any(o.order_type == "MOC" and o.action == "BUY" and o.symbol == "IWM"
                                            for o in gw.orders())), "the snapback's entry reached the gateway"
            else:
                assert wait_for(lambda: gw.wait_until_done(0) or gw.clock.hour >= 12)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(PATIENCE) == 0, (tmp_path / "paper.out").read_text()[-3000:]
        finally:
            if proc.poll() is None:
                proc.kill()
    output = (tmp_path / "paper.out").read_text()
    assert "Traceback" not in output
    assert "live from here" in run_log.read_text()
