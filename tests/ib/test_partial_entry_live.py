"""A part-filled entry whose rest is cancelled during a live session: its stop and target follow what filled.

The simulator lets only 2 IWM shares trade (``limit_liquidity``), so the quarter-end fade's IWM entry (a
next-open MKT SELL of 6, GTC, its stop and target attached for 6) fills 2 at the 2011-12-27 open and works on.
The rest is then cancelled at the gateway (a trader in TWS) while the bot runs. Behaviour defined
(strategies/playbook.py, an entry that ends part-filled): the playbook hears "Canceled after 2 of 6",
withdraws the exits attached to the whole entry and sends a stop and a target for exactly 2, so nothing
working could buy back more than the 2 sold (and turn the account long). The simulator itself cuts attached
orders of a part-filled, cancelled parent to what it filled; IB does not document that, so the test checks the
bot's own orders: the 6-share exits withdrawn, new ones sent for 2. Then IWM trades freely and the window runs
to its end: flat, no orderRef sent twice, journal and gateway agree.
"""
from __future__ import annotations

import csv
import signal

import pandas as pd

from runner.sim import SimulatedGateway
from runner.sim.cli_entry import load_bars

from harness import PATIENCE, wait_for
from kill_harness import (CLIENT_ID, DAYS_AFTER, SCENARIOS, FollowBot, bot_orders, check_final_state, consistent, live,
                          proof_config, protected, start_paper)

SCENARIO = "quarter_end_2011"
ENTRY = "flowbot:qe_iwm:IWM:20111223T235959:1"
ATTACHED = {ENTRY[:-1] + "2", ENTRY[:-1] + "3"}
FILLED, WANTED = 2, 6


def _working_iwm_exits(gw):
    return [o for o in bot_orders(gw) if o.symbol == "IWM" and o.action == "BUY"
            and o.status in ("PreSubmitted", "Submitted")]


def _csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_an_entry_cancelled_after_part_filling_in_a_live_session_has_its_exits_resized_to_the_fill(
        library, tmp_path):
    start, strategies = SCENARIOS[SCENARIO]
    first, last = pd.Timestamp(start) - pd.Timedelta(days=500), pd.Timestamp(start) + pd.Timedelta(days=DAYS_AFTER)
    bars = {symbol: frame.loc[str(first.date()):str(last.date())] for symbol, frame in load_bars(None).items()}
    gw = SimulatedGateway(bars=bars, speed=0, start=start, paused=True, wire_log=False,
                          pacing_time_scale=0.01)
    journal = tmp_path / "journal.sqlite"
    run = tmp_path / "run00"
    with gw:
        gw.limit_liquidity("IWM", FILLED)
        follower = FollowBot(gw, journal)   # once live, the gateway waits at each close until the bot caught up
        proc = start_paper(proof_config(tmp_path, gw.port, strategies), run, library)
        try:
            assert wait_for(lambda: live(gw, run, strategies) or proc.poll() is not None), "never went live"
            assert proc.poll() is None, run.with_suffix(".out").read_text()[-3000:]
            follower.start(run, feeds=len(strategies) + sum(1 for s in strategies if s.get("feeds")))
            # The morning the entry met the 2 shares there were: it works on for the other 4.
            gw.advance_to("2011-12-27 10:00", timeout=PATIENCE * 3)
            assert follower.failure is None, follower.failure
            [entry] = [o for o in bot_orders(gw) if o.order_ref == ENTRY]
            assert (entry.status, entry.filled, entry.quantity) == ("Submitted", FILLED, WANTED), entry
            assert wait_for(lambda: consistent(gw, run, journal) is None), consistent(gw, run, journal)
            gw.cancel_order(ENTRY)

            def resized():
                working = _working_iwm_exits(gw)
                return (sorted(o.order_type for o in working) == ["LMT", "STP"]
                        and all(o.quantity - o.filled == FILLED and o.order_ref not in ATTACHED for o in working))
            assert wait_for(resized), [(o.order_ref, o.order_type, o.status, o.quantity, o.filled)
                                       for o in bot_orders(gw) if o.symbol == "IWM"]
            assert gw.positions()["IWM"].quantity == -FILLED
            assert wait_for(lambda: protected(gw) and consistent(gw, run, journal) is None), \
                consistent(gw, run, journal)
            gw.limit_liquidity("IWM", None)
            gw.resume()
            assert wait_for(lambda: gw.wait_until_done(0) or follower.failure, timeout=PATIENCE * 3)
            assert follower.failure is None, follower.failure
            assert wait_for(lambda: not [o for o in bot_orders(gw) if o.status in ("PreSubmitted", "Submitted")])
            follower.stop()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(PATIENCE) == 0, run.with_suffix(".out").read_text()[-3000:]
        finally:
            follower.stop()
            if proc.poll() is None:
                proc.kill()
        orders, fills, positions = bot_orders(gw), [f for f in gw.fills() if f.client_id == CLIENT_ID], gw.positions()
    check_final_state(SCENARIO, journal, orders, fills, positions, [])
    iwm = [f for f in fills if f.symbol == "IWM"]
    assert sum(f.shares for f in iwm if f.side == "SLD") == FILLED == sum(f.shares for f in iwm if f.side == "BOT")
    closing = [o for o in orders if o.symbol == "IWM" and o.action == "BUY" and o.filled]
    assert [o.quantity for o in closing] == [FILLED], [(o.order_ref, o.order_type, o.quantity) for o in closing]
    # The bot's own record: the entry ended Canceled after its 2, and its exits went out again for 2.
    rows = [r for r in _csv(run / "orders.csv") if r["symbol"] == "IWM" and r["time"] >= "2011-12"]
    assert [float(r["filled_size"]) for r in rows if r["reason"] == "entry" and r["status"] == "Canceled"] == [
        FILLED], rows
    resent = {(r["reason"], float(r["size"])) for r in rows if r["status"] == "Submitted" and r["reason"] in
              ("stop", "target")}
    assert {("stop", FILLED), ("target", FILLED)} <= resent, rows
