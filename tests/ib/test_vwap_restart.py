"""vwap_close_fade restarted in the middle of the session that holds its position (issue 10, restarts).

The replay of the session's 1-minute history must see the position as it was on each replayed bar (flat
at the session's start), not today's: otherwise the playbook takes the position it opened this morning
for one held overnight and sends its ``overnight_flatten`` at market. After the restart the entry, its
stop, its VWAP target and its market-on-close are followed at the gateway, nothing is sent again, and
the market-on-close closes the position at the session's close. Both libraries; the VWAP fade alone,
and with a daily playbook on the same symbol (two feeds, one account position: the 1-minute feed's
position is replayed from its own orders' fills).
"""
import datetime as dt
import threading
from pathlib import Path

import pandas as pd
import pytest

from runner.config import validate_config
from runner.data.intraday_sample import synthetic_minute_bars
from runner.paper.session import PaperSession
from runner.sim import SimulatedGateway

from harness import PATIENCE, REPLAY_PATIENCE, follow_session, wait_for
from sim_follow import streaming

SESSION_BARS = 390


def vwap_config(tmp_path: Path, port: int, library: str, backfill_bars: int, with_daily: bool = False):
    """The VWAP fade on SPY; ``with_daily``: and the December fade on SPY's daily bars in the same session,
    so SPY is traded by two feeds (SPY daily, SPY@1min) sharing one account position."""
    strategies = [{"name": "vwap_close_fade", "symbol": "SPY", "data": "sample:spy_1min_synthetic",
                   "params": {"every_day": True}}]
    ib = {"port": port, "library": library, "client_id": 12, "backfill_bars": backfill_bars, "connect_timeout": 30,
          "bar_size": "1min", "journal": str(tmp_path / "journal.sqlite"), "pacing_backoff": 0.2}
    if with_daily:
        strategies.insert(0, {"name": "december_fade", "symbol": "SPY", "data": "sample:sp500"})
        ib.update(bar_size=None, backfill_bars={"1d": 1, "1min": backfill_bars})
    raw = {
        "name": "vwap-restart",
        "strategies": strategies,
        "ib": ib,
        "output": {"folder": str(tmp_path / "logs"), "report": False},
    }
    return validate_config(raw, "vwap-restart")


class Run:
    """A started session, its thread, and the gateway waiting for it (never a timed pause: under load a
    lagging bot would send the entry a few bars late, at another price, and its stop could fill before
    the restart)."""

    def __init__(self, gw, session: PaperSession, worker: threading.Thread):
        self.gw, self.session, self.worker = gw, session, worker
        self.released = follow_session(gw, session, window=45 * 60)   # the playbook acts from 15:30


def start(gw, cfg, tmp_path: Path, name: str) -> Run:
    (tmp_path / name).mkdir()
    session = PaperSession(cfg, journal_dir=tmp_path / "logs", folder=tmp_path / name)
    session.start()
    run = Run(gw, session, threading.Thread(target=session.run, daemon=True))
    run.worker.start()
    return run


def stop(run: Run) -> pd.DataFrame:
    run.released.set()
    run.gw.set_pause_hook(None)
    session, worker = run.session, run.worker
    session.stop("test over")
    worker.join(PATIENCE)
    assert not worker.is_alive()
    orders = session.runlog.orders_frame()
    session.close()
    return orders





@pytest.mark.parametrize("with_daily", [False, True], ids=["vwap_alone", "two_feeds_on_spy"])
def test_a_restart_mid_session_follows_the_position_and_sends_no_overnight_flatten(library, tmp_path, with_daily):
    bars = synthetic_minute_bars(dt.date(2019, 5, 29), dt.date(2019, 5, 29), seed=5,
                                 eligible=lambda day: True, push_share_eligible=1.0)
    with SimulatedGateway(bars={"SPY": bars}, speed=0, paused=True, wire_log=False, session_pause=0.05,
                          bar_pause=0.03, pacing_time_scale=0.01) as gw:
        first = start(gw, vwap_config(tmp_path, gw.port, library, 0, with_daily), tmp_path, "first")
        assert wait_for(lambda: streaming(first.session) and set(sum(gw.realtime_subscriptions().values(), [])) == {"SPY"})
        filled = threading.Event()

        def pause_at_the_entry_fill(kind: str, client_id: int, order) -> None:   # on the gateway's loop
            if kind == "execution" and not filled.is_set():
                gw.replay.pause()   # the world stands still from the entry's fill on
                filled.set()

        gw.set_order_event_tap(pause_at_the_entry_fill)
        gw.resume()
        assert wait_for(lambda: filled.is_set() or gw.wait_until_done(0)), "the session holds a trade"
        gw.set_order_event_tap(None)
        assert filled.is_set() and gw.positions(), "the entry filled before the replay ended"
        held = gw.positions()["SPY"].quantity
        stop(first)
        sent_before = {o.order_ref for o in gw.orders()}
        working_before = {o.order_ref for o in gw.orders() if o.status in ("PreSubmitted", "Submitted")}
        assert len(working_before) >= 2, "stop and market-on-close work at the gateway"
        gw.advance_to(gw.clock + pd.Timedelta(minutes=3))   # the restart takes a while

        second = start(gw, vwap_config(tmp_path, gw.port, library, SESSION_BARS, with_daily), tmp_path, "second")
        assert wait_for(lambda: streaming(second.session))
        assert gw.positions()["SPY"].quantity == held, "nothing flattened at the restart"
        gw.resume()
        assert gw.wait_until_done(REPLAY_PATIENCE)
        assert wait_for(lambda: not gw.positions()), "the market-on-close (or an exit) closes it"
        orders = stop(second)
        at_gateway = gw.orders()
    refs = [o.order_ref for o in at_gateway]
    assert len(refs) == len(set(refs)), refs
    assert not [r for r in refs if r not in sent_before], "nothing sent after the restart"
    assert "overnight_flatten" not in set(orders["reason"]), orders[["time", "reason", "status"]]
    assert working_before <= set(refs)
