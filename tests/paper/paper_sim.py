"""A PaperSession against the in-process simulated gateway, with bounded waits (no sleeps as assertions)."""
from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

from runner.config import validate_config
from runner.data.intraday_sample import synthetic_minute_bars
from runner.paper.session import PaperSession
from runner.sim import SimulatedGateway
from sim_follow import follow_session, streaming

#: Safety nets against hangs, never a speed requirement.
PATIENCE = 120.0
#: The same for a whole replay the gateway makes wait for the session at every bar of each close's window
#: and at every close (as tests/ib/harness.py's REPLAY_PATIENCE): minutes on a loaded machine.
REPLAY_PATIENCE = 600.0
#: The playbooks these tests run act at a session's close (the daily fade decides on the completed bar)
#: and in its last 30 minutes (the VWAP fade): the replay waits for the session at each bar of the last
#: 45 minutes and at every close; the bars before arrive as fast as the gateway sends them.
CLOSE_WINDOW = 45 * 60.0


def wait_for(condition, timeout: float = PATIENCE, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + max(timeout, PATIENCE)
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def minute_bars(first=dt.date(2019, 5, 28), last=dt.date(2019, 5, 30), seed: int = 5):
    """Synthetic SPY minutes where every session is eligible and pushed into the close (the VWAP fade trades)."""
    return synthetic_minute_bars(first, last, seed=seed, eligible=lambda day: True, push_share_eligible=1.0)


def combined_config(tmp_path: Path, port: int, library: str, **extra):
    """December fade (daily) and the VWAP fade (1-minute) on SPY in one session."""
    raw = {
        "name": "combined-paper",
        "strategies": [
            {"name": "december_fade", "symbol": "SPY", "data": "sample:sp500"},
            {"name": "vwap_close_fade", "symbol": "SPY", "data": "sample:spy_1min_synthetic",
             "params": {"every_day": True}},
        ],
        "ib": {"port": port, "library": library, "client_id": 21, "connect_timeout": 30,
               "backfill_bars": {"1d": 1, "1min": 0}, "journal": str(tmp_path / "journal.sqlite")},
        "output": {"folder": str(tmp_path / "logs"), "report": False},
    }
    for key, value in extra.items():
        raw[key] = value
    return validate_config(raw, "combined-paper")


def gateway(bars, **kw) -> SimulatedGateway:
    # The pauses are never timed: SessionThread(session, gw) makes the replay wait for the session at each
    # (a nonzero bar_pause makes every bar boundary a pause).
    options = dict(speed=0, paused=True, wire_log=False, session_pause=0.05, bar_pause=0.04,
                   pacing_time_scale=0.01, warmup_sessions=1)
    options.update(kw)
    return SimulatedGateway(bars={"SPY": bars}, **options)


class SessionThread:
    """``session.run`` in a thread; ``finish`` stops it and returns once it has ended.

    With ``gw``, the gateway waits for the session at every bar boundary and session close until it has
    acted on what it was sent (sim_follow.follow_session): a loaded machine makes the replay slower, never
    lets it run ahead of the bot. ``window``: wait at bar boundaries only that many sim seconds before the
    close (playbooks that act only near the close).
    """

    def __init__(self, session: PaperSession, gw: SimulatedGateway | None = None,
                 window: float | None = CLOSE_WINDOW):
        self.session = session
        self.gw = gw
        self.window = window
        self.released: threading.Event | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="paper-session", daemon=True)

    def _run(self):
        try:
            self.session.run()
        except BaseException as exc:   # surfaced by finish()
            self.error = exc

    def start(self) -> "SessionThread":
        self.session.start()
        if self.gw is not None:
            self.released = follow_session(self.gw, self.session, self.window)
        self.thread.start()
        return self

    def finish(self) -> None:
        if self.gw is not None:
            self.released.set()
            self.gw.set_pause_hook(None)
        self.session.stop("test over")
        self.thread.join(PATIENCE)
        assert not self.thread.is_alive(), "the session did not stop"
        self.session.close()
        if self.error is not None:
            raise self.error


def wait_until_live(gw, session: PaperSession) -> None:
    """Every feed of the session has done its backfill and streams (a feed sharing a symbol's stream with
    another would otherwise still be backfilling when the replay starts, and take the bars from history)."""
    assert wait_for(lambda: streaming(session) and sum(gw.realtime_subscriptions().values(), [])), \
        "subscribed before the replay starts"


def replay_all(gw, session: PaperSession, bars) -> None:
    """Resume the paused gateway and wait until every feed has delivered the last bar."""
    wait_until_live(gw, session)
    gw.resume()
    assert gw.wait_until_done(REPLAY_PATIENCE)
    last_day, last_minute = bars.index[-1].date(), bars.index[-1]

    def done(feed) -> bool:
        if not feed.delivered:
            return False
        last = feed.delivered[-1].time
        return last.date() >= last_day if feed.size.daily else last >= last_minute
    assert wait_for(lambda: all(done(f) for f in session.feeds.values())), "every feed delivered the last bar"
