"""The kill -9 proof's machinery (tests/ib/test_kill_restart_proof.py and tests/ib/test_kill_points.py):
`flowbot paper` as a subprocess against the simulated gateway, killed with SIGKILL while the simulator stands
still on a chosen message of its stream (:class:`KillSwitch`), restarted the same day or the next day on the
simulator's clock, and checked after every restart (every position has its stop, the account is what the
journal's fills add up to and what the bot reports) and at the end (flat, no orderRef sent twice, every order
final, every fill journaled).
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable

import pandas as pd
import yaml

from runner.sim import SimulatedGateway
from runner.sim.cli_entry import load_bars

from harness import PATIENCE, wait_for
from sim_follow import follow_with

ROOT = Path(__file__).resolve().parents[2]
PHASES = ("entry", "fill", "exit")
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
OPENING = {"quarter_end_2011": "SELL", "year_end_2012": "BUY"}
#: Sessions of simulator data after the window's start: the trades, their exits and the next-day restarts.
DAYS_AFTER = 35


def proof_config(tmp_path: Path, port: int, strategies: list[dict]) -> Path:
    """The shipped config/paper.yaml's ib and risk sections with the scenario's two playbooks."""
    raw = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    raw["strategies"] = strategies
    # pacing_backoff: the simulator keeps IB's pacing rules on a clock 100 times faster (pacing_time_scale).
    raw["ib"].update(port=port, journal=str(tmp_path / "journal.sqlite"), connect_timeout=30, pacing_backoff=0.2,
                     feed_symbols={f"{s['symbol']}.bonds": "IEF" for s in strategies if s.get("feeds")})
    raw["output"] = {"folder": str(tmp_path / "logs"), "report": False}
    path = tmp_path / "proof.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


class KillSwitch:
    """Stops the simulator on the n-th message of a phase (entry, fill, exit, or any) until the test has killed
    the bot; a phase that does not come within ``PATIENT_CLOSES`` session closes gives way to that close."""

    PATIENT_CLOSES = 10

    def __init__(self, gw: SimulatedGateway, opening: str,
                 on_hit: Callable[[SimulatedGateway], None] | None = None):
        self.gw = gw
        self.opening = opening
        self.on_hit = on_hit   # called on the simulator's loop at the kill point, before it stands still
        self.countdown: int | None = None
        self.phase: str | None = None
        self.closes = 0
        self.hit = threading.Event()
        self.released = threading.Event()
        self.at: str | None = None
        self.symbol: str | None = None
        self.order_type: str | None = None

    def arm(self, phase: str, n: int, symbol: str | None = None, order_type: str | None = None) -> None:
        """Stop on the ``n``-th message of ``phase`` (of orders of ``symbol``, of ``order_type``, if given)."""
        self.hit.clear()
        self.released.clear()
        self.phase, self.countdown, self.closes, self.symbol = phase, n, 0, symbol
        self.order_type = order_type

    def phase_of(self, kind: str, order) -> str:
        if order is None:
            return "session"
        t = order.ticket
        entry = t.action == self.opening and t.order_type in ("MKT", "MOC") and not t.parent_id
        if entry:
            return "fill" if kind in ("execution", "commission") else "entry"
        return "exit"

    def __call__(self, kind: str, client_id: int, order=None) -> None:   # on the simulator's loop
        if client_id != CLIENT_ID or self.countdown is None:
            return
        phase = self.phase_of(kind, order)
        mine = ((self.symbol is None or (order is not None and order.symbol == self.symbol))
                and (self.order_type is None or (order is not None and order.ticket.order_type == self.order_type)))
        if (phase == self.phase or self.phase == "any") and mine:
            self.countdown -= 1
            if self.countdown > 0:
                return
            self.at = (f"{phase}: {kind} of {order.ticket.order_type} {order.ticket.action} {order.ticket.order_ref}"
                       if order is not None else f"session {kind}")
        elif kind == "close":
            self.closes += 1
            if self.closes < self.PATIENT_CLOSES:
                return
            self.at = f"session close (no {self.phase} event within {self.PATIENT_CLOSES} closes)"
        else:
            return
        self.countdown = None
        if self.on_hit is not None:
            self.on_hit(self.gw)
        self.gw.replay.pause()          # nothing moves on once the loop goes on
        self.hit.set()
        self.released.wait(PATIENCE)   # the world stands still while the bot is killed

    def release(self) -> None:
        self.countdown = None
        self.released.set()


WORKING = ("PreSubmitted", "Submitted")
#: Journal statuses of an order that may still be on its way to the gateway.
UNSENT = ("Intent", "Sent")


class FollowBot:
    """The gateway's wait at each session close for `flowbot paper`, a subprocess: the replay stands still
    (its loop serving the bot meanwhile) until the bot has acted on the day and the gateway holds what it
    decided, by what can be seen of the bot from outside (:meth:`behind`). The waiting is sim_follow's
    (``follow_with``), bounded by ``PATIENCE``: a bot that does not catch up fails the test (``failure``)."""

    def __init__(self, gw: SimulatedGateway, journal: Path, client_id: int = CLIENT_ID):
        self.gw, self.journal, self.client_id = gw, journal, client_id
        self.failure: str | None = None
        self.released: threading.Event | None = None

    def start(self, run_folder: Path, feeds: int) -> None:
        """Follow the run in ``run_folder`` (live, with ``feeds`` feeds) from now on."""
        self.run_folder, self.feeds, self.since = run_folder, feeds, self.gw.replay.clock.now()
        self.released = follow_with(self.gw, self._wait)

    def stop(self) -> None:
        """Before the run is killed or stopped: every wait ends at once (no call to the gateway: its loop may
        stand on the kill switch)."""
        if self.released is not None:
            self.released.set()

    def _wait(self, released: threading.Event) -> None:   # in the gateway's worker thread
        day = pd.Timestamp(self.gw.replay.clock.now(), unit="s", tz="UTC").tz_convert("America/New_York").date()
        why: list[str | None] = [None]

        def done() -> bool:
            if released.is_set():
                return True
            try:
                why[0] = self.behind(day)
            except Exception as exc:   # e.g. the gateway's loop held by the kill switch beyond its bound
                why[0] = f"{type(exc).__name__}: {exc}"
            return why[0] is None

        if not wait_for(done) and not released.is_set():
            self.failure = f"the bot did not catch up after the close of {day} within {PATIENCE:.0f}s: {why[0]}"
            released.set()

    def behind(self, day) -> str | None:
        """What the bot has yet to do after the close of ``day`` (None: caught up): act on the day's bar on
        every feed (status.json's last bar, written after the playbooks' ``next``); take every execution and
        commission report of its run (journaled; status.json's positions, written after the playbooks'
        ``notify_order``, where a fill's exits are sent, agree with the account); every position has its stop
        at the gateway; and the gateway holds every order it decided, and only those (status.json's working
        orders, the journal's intents)."""
        try:
            status = json.loads((self.run_folder / "status.json").read_text())
        except (OSError, ValueError) as exc:
            return f"status.json unreadable: {exc}"
        bars = {name: bar["time"][:10] for name, bar in status["last_bar"].items()}
        if len(bars) < self.feeds or min(bars.values()) < day.isoformat():
            return f"the bar of {day} not acted on yet on every feed: {bars}"
        if self.gw.reports_pending():
            return "commission reports still to send"
        executions = {f.exec_id for f in self.gw.fills() if f.client_id == self.client_id and f.time >= self.since}
        missing = executions - {e for (e,) in journal_rows(self.journal, "SELECT exec_id FROM fills")}
        if missing:
            return f"executions not journaled yet: {sorted(missing)}"
        account = {symbol: p.quantity for symbol, p in self.gw.positions().items() if p.quantity}
        believed = {symbol: p["size"] for symbol, p in status["positions"].items() if p["size"]}
        if believed != account:
            return f"the bot believes {believed}, the account holds {account}"
        # A fill's exits are sent once the playbook hears of it; status.json may show the position first.
        # Until they are at the gateway the bot has not caught up (exits sent on a later bar would work
        # from the bar after that one).
        if not protected(self.gw, self.client_id):
            return f"a position without its stop at the gateway yet: {account}"
        orders = bot_orders(self.gw, self.client_id)
        working = {o.order_ref for o in orders if o.status in WORKING}
        held = {o["order_ref"] for o in status["working_orders"]}
        if held != working:
            return f"working at the gateway {sorted(working)}, held by the bot {sorted(held)}"
        known = {o.order_ref for o in orders}
        unsent = {r for (r,) in journal_rows(self.journal, f"SELECT order_ref FROM orders WHERE status IN {UNSENT}")}
        if unsent - known:
            return f"journaled, not at the gateway yet: {sorted(unsent - known)}"
        return None


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


def bot_orders(gw, client_id: int = CLIENT_ID):
    return [o for o in gw.orders() if o.client_id == client_id]


def protected(gw, client_id: int = CLIENT_ID) -> bool:
    """Every position the account holds has a working stop of the bot for all of it."""
    working = [o for o in bot_orders(gw, client_id) if o.status in ("PreSubmitted", "Submitted")]
    for symbol, position in gw.positions().items():
        side = "SELL" if position.quantity > 0 else "BUY"
        stops = [o for o in working if o.symbol == symbol and o.order_type == "STP" and o.action == side]
        if sum(o.quantity - o.filled for o in stops) < abs(position.quantity):
            return False
    return True


#: How many sessions after the kill's day a restart comes, by the plan's word for it. "two days later": the
#: whole session in between passes with no run connected, so what filled then is in no report at the restart;
#: "three days later": two whole sessions (an entry filled in the first, its exit in the second).
RESTART_SESSIONS = {"same day": 0, "next day": 1, "two days later": 2, "three days later": 3}


def next_session_morning(gw, sessions: int = 1) -> pd.Timestamp:
    days = sorted({pd.Timestamp(d).date() for s in gw.series.values() for d in s.frame["session"]})
    today = gw.clock.date()
    following = [d for d in days if d > today][sessions - 1]
    return pd.Timestamp(f"{following} 10:00", tz="America/New_York")


def journal_rows(path: Path, sql: str) -> list[tuple]:
    """Read the journal as tooling does while the session runs: read-only, without its lock."""
    with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        return db.execute(sql).fetchall()


def consistent(gw, run_folder: Path, journal: Path) -> str | None:
    """What is wrong with the account against the journal and the bot, once it is live (None: nothing)."""
    account = {symbol: p.quantity for symbol, p in gw.positions().items() if p.quantity}
    journaled = {symbol: q for symbol, q in journal_rows(journal, "SELECT symbol, SUM(CASE side WHEN 'BOT' THEN shares "
                                                                  "ELSE -shares END) FROM fills GROUP BY symbol")
                 if abs(q) > 1e-9}
    if journaled != account:
        return f"the journal's fills add up to {journaled}, the account holds {account}"
    status = json.loads((run_folder / "status.json").read_text())
    believed = {symbol: p["size"] for symbol, p in status["positions"].items() if p["size"]}
    if believed != account:
        return f"the bot believes {believed}, the account holds {account}"
    working = {o.order_ref for o in bot_orders(gw) if o.status in ("PreSubmitted", "Submitted")}
    held = {o["order_ref"] for o in status["working_orders"]}
    if not working <= held:
        return f"working at the gateway but held by no playbook: {sorted(working - held)}"
    return None


def run_kills(scenario: str, plan: list[tuple], tmp_path: Path, library_of_run: Callable[[int], str],
              liquidity: dict[str, float] | None = None,
              on_live: Callable[[int, SimulatedGateway, Path], None] | None = None, follow: bool = True,
              edit_bars: Callable[[dict[str, pd.DataFrame]], None] | None = None,
              before_kill: Callable[[int, SimulatedGateway], None] | None = None,
              on_hit: Callable[[SimulatedGateway], None] | None = None):
    """Run ``scenario`` with a kill at each point of ``plan``, a restart after each, then to the end of the data.

    ``plan``: (phase, n-th message of it, "same day" | "next day" | "two days later" | "three days later"[, symbol[,
    order type]])
    per kill;
    ``library_of_run(k)``: the client library of run k (run 0 is the first start). Returns the kills (event
    killed at, library, same day | next day), and the bot's orders, fills and the positions at the end.
    ``liquidity``: shares per symbol that trade until ``on_live`` lifts it (``SimulatedGateway.limit_liquidity``);
    ``on_live(k, gw, run_folder)``: called once run k is live and checked, before the next kill.
    ``follow``: after each close the gateway waits until the bot (a subprocess) has acted on the day and holds
    what it decided (:class:`FollowBot`); False only to show the tests depend on it (the replay then goes on
    at once).
    ``edit_bars(bars)``: changes the scenario's bars (symbol -> daily frame) in place before the gateway serves
    them, the same to the gateway's fills and to the bot's history.
    ``before_kill(k, gw)``: called once the simulator stands still on run k's kill point, before the kill (e.g.
    to wait until the bot has journaled the message it stands on).
    ``on_hit(gw)``: called on the simulator's own loop the moment it reaches a kill point (the gateway's calls,
    e.g. ``gw.orders()``, would wait for that loop: read ``gw.exchange`` directly).
    """
    start, strategies = SCENARIOS[scenario]
    first = pd.Timestamp(start) - pd.Timedelta(days=500)
    last = pd.Timestamp(start) + pd.Timedelta(days=DAYS_AFTER)
    bars = {symbol: frame.loc[str(first.date()):str(last.date())].copy() for symbol, frame in load_bars(None).items()}
    if edit_bars is not None:
        edit_bars(bars)
    gw = SimulatedGateway(bars=bars, speed=0, start=start, paused=True, wire_log=False,
                          pacing_time_scale=0.01, session_pause=0.05 if follow else 0)
    journal = tmp_path / "journal.sqlite"
    kills: list[tuple[str, str, str]] = []
    with gw:
        switch = KillSwitch(gw, OPENING[scenario], on_hit)
        follower = FollowBot(gw, journal)
        feeds = len(strategies) + sum(1 for s in strategies if s.get("feeds"))
        gw.set_order_event_tap(switch)
        for symbol, shares in (liquidity or {}).items():
            gw.limit_liquidity(symbol, shares)
        config = proof_config(tmp_path, gw.port, strategies)
        proc = None
        try:
            for k in range(len(plan) + 1):
                library = library_of_run(k)
                run_folder = tmp_path / f"run{k:02d}"
                proc = start_paper(config, run_folder, library)
                out = run_folder.with_suffix(".out")
                assert wait_for(lambda: live(gw, run_folder, strategies) or proc.poll() is not None), f"run {k} never went live"
                assert proc.poll() is None, out.read_text()[-3000:]
                assert wait_for(lambda: protected(gw)), f"run {k}: a position without its stop after restarting ({kills})"
                assert wait_for(lambda: consistent(gw, run_folder, journal) is None), \
                    f"run {k} after {kills}: {consistent(gw, run_folder, journal)}"
                if follow:
                    follower.start(run_folder, feeds)
                if on_live is not None:
                    on_live(k, gw, run_folder)
                if k == len(plan):
                    break
                phase, n, when, *symbol = plan[k]
                switch.arm(phase, n, *symbol)
                gw.resume()
                assert wait_for(lambda: switch.hit.is_set() or gw.wait_until_done(0) or follower.failure), \
                    "no event to kill at"
                follower.stop()
                assert follower.failure is None, f"run {k} after {kills}: {follower.failure}"
                assert switch.hit.is_set(), f"the replay ended after {k} kills: too few order events ({kills})"
                if before_kill is not None:
                    before_kill(k, gw)
                proc.send_signal(signal.SIGKILL)
                proc.wait(PATIENCE)
                switch.release()
                assert wait_for(lambda: CLIENT_ID not in gw.connected_clients())
                # A restart takes a while: the gateway's clock has moved on when the bot is back.
                sessions = RESTART_SESSIONS[when]
                gw.advance_to(next_session_morning(gw, sessions) if sessions else gw.clock + pd.Timedelta(minutes=2),
                              timeout=PATIENCE)
                kills.append((switch.at, library, when))
            gw.resume()
            assert wait_for(lambda: gw.wait_until_done(0) or follower.failure, timeout=PATIENCE * 3)
            assert follower.failure is None, f"the last run after {kills}: {follower.failure}"
            assert wait_for(lambda: not [o for o in bot_orders(gw) if o.status in ("PreSubmitted", "Submitted")])
            follower.stop()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(PATIENCE) == 0, (tmp_path / f"run{len(plan):02d}.out").read_text()[-3000:]
        finally:
            follower.stop()
            switch.release()
            if proc is not None and proc.poll() is None:
                proc.kill()
        orders, fills, positions = bot_orders(gw), [f for f in gw.fills() if f.client_id == CLIENT_ID], gw.positions()
    return kills, orders, fills, positions


def check_final_state(scenario: str, journal: Path, orders, fills, positions, kills) -> None:
    """After the last restart and the end of the data: what every run of the proof must leave."""
    refs = [o.order_ref for o in orders]
    assert len(refs) == len(set(refs)), f"an orderRef reached the gateway twice: {refs}"
    # An exit moved with its entry's fill is IB's modification (its orderId sent again), journaled as one.
    modified = {o.order_ref for o in orders if o.modifications}
    journaled_modified = {r for (r,) in journal_rows(journal, "SELECT DISTINCT order_ref FROM statuses "
                                                              "WHERE status = 'Modified'")}
    assert modified <= journaled_modified, f"modified at the gateway, not journaled as such: {modified - journaled_modified}"
    assert positions == {}, f"flat after the exits: {positions}"
    # Each decision was entered at most once (incarnations :rN of a lost order are the same decision);
    # a decision a kill kept from being sent until its bar was past is not sent late.
    entries = [o.order_ref.split(":r")[0] for o in orders
               if o.filled and o.order_type in ("MKT", "MOC") and o.action == OPENING[scenario]]
    assert 1 <= len(entries) == len(set(entries)) <= 2, (entries, kills, refs)
    for symbol in ("IWM", "SPY"):
        bought = sum(f.shares for f in fills if f.symbol == symbol and f.side == "BOT")
        sold = sum(f.shares for f in fills if f.symbol == symbol and f.side == "SLD")
        assert bought == sold, (symbol, bought, sold)
    journaled = dict(journal_rows(journal, "SELECT symbol, SUM(CASE side WHEN 'BOT' THEN shares ELSE -shares END)"
                                           " FROM fills GROUP BY symbol"))
    assert all(abs(q) < 1e-9 for q in journaled.values()), f"the journal's fills leave {journaled}"
    unfinished = journal_rows(journal, "SELECT order_ref, status FROM orders WHERE status NOT IN "
                                       "('Filled','Cancelled','ApiCancelled','Inactive','Rejected','Lost')")
    assert unfinished == [], f"journaled as still working, though nothing works at the gateway: {unfinished}"
    gateway_refs = set(refs)
    journal_refs = {r for (r,) in journal_rows(journal, "SELECT order_ref FROM orders WHERE status != 'Intent'")}
    assert gateway_refs <= journal_refs, f"sent but never journaled: {gateway_refs - journal_refs}"
