"""The shipped paper configs run against the simulated gateway as they are (only ib.port pointed at it).

config/paper.yaml trades SPY, IWM and IEF (the fade's bond leg) at once; started before the 2012
year end it sends the January snapback's market-on-close entry on IWM in time for the close it was
decided for. config/paper_vwap.yaml streams SPY's 1-minute bars.

Once the bot is live the gateway waits at each session close until it has acted on the day
(kill_harness.FollowBot), never for a fixed time.
"""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from runner.sim import SimulatedGateway
from runner.sim.cli_entry import load_bars

from harness import PATIENCE, wait_for
from kill_harness import FollowBot

ROOT = Path(__file__).resolve().parents[2]


def rehearsal_bars(name: str) -> dict:
    if name == "paper.yaml":   # gateway-sim's default dataset: SPY, IWM, IEF
        return {s: f.loc["2011-06-01":"2013-01-31"] for s, f in load_bars(None).items()}
    return load_bars("SPY=sample:spy_1min_synthetic")


#: The snapback's entry, decided on the 2012-12-28 bar: a market-on-close order for the next session's close.
SNAPBACK_ENTRY = "flowbot:january_snapback:IWM:20121228T235959:1"
SNAPBACK_CLOSE = "2012-12-31"


@pytest.mark.parametrize("name, start, feeds, bars", [("paper.yaml", "2012-12-26 09:30", 3, 4),
                                                      ("paper_vwap.yaml", None, 1, 1)])
def test_a_shipped_paper_config_runs_against_the_simulator_unchanged(name, start, feeds, bars, tmp_path):
    """``feeds``: the "live from here" lines of a live bot; ``bars``: the feeds in its status.json's last bars."""
    options = {"start": start} if start else {"warmup_sessions": 1}
    client_id = yaml.safe_load((ROOT / "config" / name).read_text())["ib"]["client_id"]
    with SimulatedGateway(bars=rehearsal_bars(name), speed=0, paused=True, wire_log=False, pacing_time_scale=0.01,
                          **options) as gw:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        log = open(tmp_path / "paper.out", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "runner", "paper", "-c", str(ROOT / "config" / name),
                                 "--set", f"ib.port={gw.port}", "--out", str(tmp_path / "run")],
                                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        run_log = tmp_path / "run" / "run.log"
        follower = None
        try:
            assert wait_for(lambda: proc.poll() is not None or (
                run_log.exists() and run_log.read_text().count("live from here") >= feeds)), "live on every feed"
            assert proc.poll() is None, (tmp_path / "paper.out").read_text()[-3000:]
            # The journal is where the shipped config puts it (logs/journal-<account>.sqlite).
            assert wait_for(lambda: list(tmp_path.glob("logs/journal-*.sqlite"))), "the journal"
            [journal] = tmp_path.glob("logs/journal-*.sqlite")
            follower = FollowBot(gw, journal, client_id)
            follower.start(tmp_path / "run", bars)
            gw.resume()
            if name == "paper.yaml":
                def entry_filled():
                    return [f for f in gw.fills() if f.order_ref == SNAPBACK_ENTRY]
                assert wait_for(lambda: entry_filled() or gw.wait_until_done(0) or follower.failure), \
                    "the snapback's entry filled"
                assert follower.failure is None, follower.failure
                [entry] = [o for o in gw.orders() if o.order_ref == SNAPBACK_ENTRY]
                assert (entry.order_type, entry.action, entry.symbol) == ("MOC", "BUY", "IWM"), entry
                fills = entry_filled()
                assert fills, f"the entry never filled: {entry}"
                # At the close it was decided for, not a later one: the bot had sent it before that session.
                filled = {pd.Timestamp(f.time, unit="s", tz="UTC").tz_convert("America/New_York").date().isoformat()
                          for f in fills}
                assert filled == {SNAPBACK_CLOSE}, filled
            else:
                assert wait_for(lambda: gw.wait_until_done(0) or gw.clock.hour >= 12 or follower.failure)
                assert follower.failure is None, follower.failure
            follower.stop()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(PATIENCE) == 0, (tmp_path / "paper.out").read_text()[-3000:]
        finally:
            if follower is not None:
                follower.stop()
            if proc.poll() is None:
                proc.kill()
    output = (tmp_path / "paper.out").read_text()
    assert "Traceback" not in output
    assert "live from here" in run_log.read_text()
