"""Issue 10's proof: `flowbot paper` killed with SIGKILL at 20 seeded random points across entries,
fills and exits, restarted each time (the same day, or the next day on the simulator's clock),
ends with the account where the journal and the strategies say it is: no orderRef sent twice, no
position left without its stop, flat after the exits, every order final, every fill journaled.

The kill points are the simulator's own order messages to the bot (statuses, executions,
commission reports, errors) and its session closes: the simulator stands still on the chosen
message while the process is killed, so a point is a place in the event stream, never a time.
Two windows with two trades each, ten kills in each (see SCENARIOS).
The restarts alternate between ib_insync and ib_async over one journal.

NOT YET PASSING, so it runs only with FLOWBOT_KILL_PROOF=1 (about 4 minutes). What it found and
what is still open:
- fixed: fills booked out of order when commission reports came late; the daily loss limit
  halting on history replayed at a restart; a replayed entry refused by the position limit
  cancelling the real working exits it had adopted; a replayed stale decision's exits adopting
  the working exits of the position held; orders filled while no run was connected;
- open: some kill sequences in the quarter-end window end with two entries of one playbook filled
  (orderRefs of different bars, e.g. ...:20111221T235959:1 and ...:20111222T235959:1): a decision
  sent just before a kill is not recognised on the restart and the playbook decides again; and
  the inference of fills made while away can pick a stale unfinished order of an old window.
"""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
import yaml

from runner.sim import SimulatedGateway
from runner.sim.cli_entry import load_bars

from conftest import LIBRARIES
from harness import PATIENCE, wait_for

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261210
KILLS = 20
CLIENT_ID = 17


SNAPBACK = {"five_day_return_pct": -1.0, "opex_return_pct": -2.0, "hold_sessions": 5, "stop_atr": 2.0,
            "target": "retracement", "entry": "last_close"}
QUARTER_END = {"quarters": [3, 6, 9, 12], "rally_pct": 1.0, "drift_min_pct": 0.5, "stop_atr": 1.5,
               "target_retrace_pct": 50}
#: Two windows of the embedded samples with a trade on each of IWM and SPY (as a backtest shows):
#: the quarter-end fade (short, next-open entries with attached exits) in December 2011 and the
#: January snapback (long, market-on-close entries) at the 2012 year end. Ten kills in each.
SCENARIOS = {
    "quarter_end_2011": ("2011-12-16 09:30", [
        {"name": "quarter_end_fade", "label": "qe_spy", "symbol": "SPY", "data": "sample:sp500",
         "feeds": {"bonds": "sample:aaa_bond_proxy"}, "params": QUARTER_END},
        {"name": "quarter_end_fade", "label": "qe_iwm", "symbol": "IWM", "data": "sample:nasdaq",
         "feeds": {"bonds": "sample:aaa_bond_proxy"}, "params": QUARTER_END}]),
    "year_end_2012": ("2012-12-26 09:30", [
        {"name": "january_snapback", "label": "snapback_iwm", "symbol": "IWM", "data": "sample:nasdaq",
         "params": SNAPBACK},
        {"name": "january_snapback", "label": "snapback_spy", "symbol": "SPY", "data": "sample:sp500",
         "params": SNAPBACK}]),
}
KILLS_PER_SCENARIO = KILLS // len(SCENARIOS)


def proof_config(tmp_path: Path, port: int, strategies: list[dict]) -> Path:
    """The shipped config/paper.yaml's ib and risk sections with the scenario's two playbooks."""
    raw = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    raw["strategies"] = strategies
    # pacing_backoff: the simulator keeps IB's pacing rules on a clock 100 times faster (pacing_time_scale).
    raw["ib"].update(port=port, journal=str(tmp_path / "journal.sqlite"), connect_timeout=10, pacing_backoff=0.2,
                     feed_symbols={f"{s['symbol']}.bonds": "IEF" for s in strategies if s.get("feeds")})
    raw["output"] = {"folder": str(tmp_path / "logs"), "report": False}
    path = tmp_path / "proof.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


class KillSwitch:
    """Stops the simulator on the n-th order message to the bot until the test has killed the bot."""

    def __init__(self, gw: SimulatedGateway):
        self.gw = gw
        self.countdown: int | None = None
        self.hit = threading.Event()
        self.released = threading.Event()
        self.seen: list[str] = []
        self.at: str | None = None

    def arm(self, n: int) -> None:
        self.hit.clear()
        self.released.clear()
        self.countdown = n

    def __call__(self, kind: str, client_id: int) -> None:   # on the simulator's loop
        if client_id != CLIENT_ID or self.countdown is None:
            return
        self.seen.append(kind)
        self.countdown -= 1
        if self.countdown > 0:
            return
        self.countdown, self.at = None, kind
        self.gw.replay.pause()          # nothing moves on once the loop goes on
        self.hit.set()
        self.released.wait(PATIENCE)   # the world stands still while the bot is killed

    def release(self) -> None:
        self.countdown = None
        self.released.set()


def start_paper(config: Path, out: Path, library: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    log = open(out.with_suffix(".out"), "wb")
    return subprocess.Popen([sys.executable, "-m", "runner", "paper", "-c", str(config), "--out", str(out),
                             "--set", f"ib.library={library}"], cwd=config.parent, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def live(gw, run_folder: Path, strategies: list[dict]) -> bool:
    """The bot streams every symbol's 5-second bars and has replayed its history on every feed."""
    feeds = [s["symbol"] for s in strategies] + ["IEF" for s in strategies if s.get("feeds")]
    log = run_folder / "run.log"
    return (set(gw.realtime_subscriptions().get(CLIENT_ID, [])) == set(feeds) and log.exists()
            and log.read_text().count("live from here") >= len(feeds))


def bot_orders(gw):
    return [o for o in gw.orders() if o.client_id == CLIENT_ID]


def protected(gw) -> bool:
    """Every position the account holds has a working stop of the bot for all of it."""
    working = [o for o in bot_orders(gw) if o.status in ("PreSubmitted", "Submitted")]
    for symbol, position in gw.positions().items():
        side = "SELL" if position.quantity > 0 else "BUY"
        stops = [o for o in working if o.symbol == symbol and o.order_type == "STP" and o.action == side]
        if sum(o.quantity - o.filled for o in stops) < abs(position.quantity):
            return False
    return True


def next_session_morning(gw) -> pd.Timestamp:
    days = sorted({pd.Timestamp(d).date() for s in gw.series.values() for d in s.frame["session"]})
    today = gw.clock.date()
    following = next(d for d in days if d > today)
    return pd.Timestamp(f"{following} 10:00", tz="America/New_York")


def journal_rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


@pytest.mark.skipif(os.environ.get("FLOWBOT_KILL_PROOF") != "1",
                    reason="issue 10's kill -9 proof does not pass yet (see the module docstring); "
                           "FLOWBOT_KILL_PROOF=1 runs it")
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_kill_9_at_random_points_then_restart_leaves_the_account_as_journal_and_strategy_say(scenario, tmp_path):
    start, strategies = SCENARIOS[scenario]
    rng = random.Random(f"{SEED}:{scenario}")
    first = pd.Timestamp(start) - pd.Timedelta(days=500)
    last = pd.Timestamp(start) + pd.Timedelta(days=25)
    bars = {symbol: frame.loc[str(first.date()):str(last.date())] for symbol, frame in load_bars(None).items()}
    gw = SimulatedGateway(bars=bars, speed=0, start=start, paused=True, wire_log=False,
                          pacing_time_scale=0.01, session_pause=0.5)
    kills: list[tuple[str, str, str]] = []   # (event killed at, library, same day | next day)
    with gw:
        switch = KillSwitch(gw)
        gw.set_order_event_tap(switch)
        config = proof_config(tmp_path, gw.port, strategies)
        proc = None
        try:
            for k in range(KILLS_PER_SCENARIO + 1):
                library = LIBRARIES[k % 2]
                proc = start_paper(config, tmp_path / f"run{k:02d}", library)
                run_folder = tmp_path / f"run{k:02d}"
                assert wait_for(lambda: live(gw, run_folder, strategies) or proc.poll() is not None), f"run {k} never went live"
                assert proc.poll() is None, (tmp_path / f"run{k:02d}.out").read_text()[-3000:]
                assert wait_for(lambda: protected(gw)), f"run {k}: a position without its stop after restarting"
                if k == KILLS_PER_SCENARIO:
                    break
                switch.arm(rng.choice([1, 1, 2]))
                gw.resume()
                assert wait_for(lambda: switch.hit.is_set() or gw.wait_until_done(0)), "no event to kill at"
                assert switch.hit.is_set(), f"the replay ended after {k} kills: too few order events ({kills})"
                proc.send_signal(signal.SIGKILL)
                proc.wait(PATIENCE)
                switch.release()
                assert wait_for(lambda: CLIENT_ID not in gw.connected_clients())
                when = "next day" if rng.random() < 0.3 else "same day"
                # A restart takes a while: the gateway's clock has moved on when the bot is back.
                gw.advance_to(next_session_morning(gw) if when == "next day" else gw.clock + pd.Timedelta(minutes=2),
                              timeout=PATIENCE)
                kills.append((switch.at, library, when))
            gw.resume()
            assert gw.wait_until_done(PATIENCE * 3)
            assert wait_for(lambda: not [o for o in bot_orders(gw) if o.status in ("PreSubmitted", "Submitted")])
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(PATIENCE) == 0, (tmp_path / f"run{KILLS_PER_SCENARIO:02d}.out").read_text()[-3000:]
        finally:
            switch.release()
            if proc is not None and proc.poll() is None:
                proc.kill()
        orders, fills, positions = bot_orders(gw), [f for f in gw.fills() if f.client_id == CLIENT_ID], gw.positions()

    assert len(kills) == KILLS_PER_SCENARIO
    assert {lib for _, lib, _ in kills} == set(LIBRARIES) and {w for _, _, w in kills} == {"same day", "next day"}
    refs = [o.order_ref for o in orders]
    assert len(refs) == len(set(refs)), f"an orderRef reached the gateway twice: {refs}"
    assert positions == {}, f"flat after the exits: {positions}"
    # Each decision was entered at most once (incarnations :rN of a lost order are the same decision);
    # a decision a kill kept from being sent until its bar was past is not sent late.
    opening = "BUY" if scenario.startswith("year_end") else "SELL"
    entries = [o.order_ref.split(":r")[0] for o in orders
               if o.filled and o.order_type in ("MKT", "MOC") and o.action == opening]
    assert 1 <= len(entries) == len(set(entries)) <= 2, (entries, kills, refs)
    for symbol in ("IWM", "SPY"):
        bought = sum(f.shares for f in fills if f.symbol == symbol and f.side == "BOT")
        sold = sum(f.shares for f in fills if f.symbol == symbol and f.side == "SLD")
        assert bought == sold, (symbol, bought, sold)
    journal = tmp_path / "journal.sqlite"
    journaled = dict(journal_rows(journal, "SELECT symbol, SUM(CASE side WHEN 'BOT' THEN shares ELSE -shares END)"
                                           " FROM fills GROUP BY symbol"))
    assert all(abs(q) < 1e-9 for q in journaled.values()), f"the journal's fills leave {journaled}"
    unfinished = journal_rows(journal, "SELECT order_ref, status FROM orders WHERE status NOT IN "
                                       "('Filled','Cancelled','ApiCancelled','Inactive','Rejected','Lost')")
    assert unfinished == [], f"journaled as still working, though nothing works at the gateway: {unfinished}"
    gateway_refs = set(refs)
    journal_refs = {r for (r,) in journal_rows(journal, "SELECT order_ref FROM orders WHERE status != 'Intent'")}
    assert gateway_refs <= journal_refs, f"sent but never journaled: {gateway_refs - journal_refs}"
