"""A part-filled entry still working when `flowbot paper` is killed, restarted the same day or the next day.

The simulator lets only 2 IWM shares trade (``limit_liquidity``), so the quarter-end fade's IWM entry (a
next-open MKT SELL, GTC, with its stop and target attached) fills 2 of its 6 shares and keeps working; the bot is
killed on that execution. Behaviour defined (runner/ib/broker_adopt.py ``_end_part_filled_entries``): the
restart takes the 2 filled as the position (the next day, when the gateway no longer reports yesterday's
executions, from the working order's filled quantity) and cancels the entry's rest, never adopting it (the
decision was for that open); the playbook, hearing "Canceled after 2", withdraws the exits attached to the
whole entry and sends a stop and a target for exactly 2. Then IWM trades freely again and the window runs
to its end: flat, no orderRef sent twice, journal and gateway agree, orders.csv and trades.csv too.
"""
from __future__ import annotations

import csv

import pytest

from kill_harness import bot_orders, check_final_state, run_kills
from harness import wait_for

ENTRY = "flowbot:qe_iwm:IWM:20111223T235959:1"
FILLED = 2


def _restarted_state_is_defined(gw) -> bool:
    orders = bot_orders(gw)
    [entry] = [o for o in orders if o.order_ref == ENTRY]
    working = [o for o in orders if o.symbol == "IWM" and o.status in ("PreSubmitted", "Submitted")]
    stops = [o for o in working if o.order_type == "STP" and o.action == "BUY"]
    targets = [o for o in working if o.order_type == "LMT" and o.action == "BUY"]
    return (entry.status == "Cancelled" and entry.filled == FILLED and gw.positions()["IWM"].quantity == -FILLED
            and len(stops) == 1 and len(targets) == 1
            and all(o.quantity - o.filled == FILLED and not o.parent_id for o in stops + targets))


def _csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("when", ["same day", "next day"])
def test_a_part_filled_entry_at_a_kill_is_the_position_and_its_exits_are_sized_to_it(library, tmp_path, when):
    seen = {}

    def on_live(k, gw, run_folder):
        if k == 1:
            assert wait_for(lambda: _restarted_state_is_defined(gw)), [
                (o.order_ref, o.order_type, o.status, o.quantity, o.filled, o.parent_id) for o in bot_orders(gw)]
            seen["exits"] = {o.order_ref for o in bot_orders(gw) if o.symbol == "IWM" and not o.parent_id
                             and o.order_type in ("STP", "LMT") and o.status in ("PreSubmitted", "Submitted")}
            gw.limit_liquidity("IWM", None)

    plan = [("fill", 1, when, "IWM")]
    kills, orders, fills, positions = run_kills("quarter_end_2011", plan, tmp_path, lambda k: library,
                                                liquidity={"IWM": FILLED}, on_live=on_live)
    assert [at for at, _, _ in kills] == [f"fill: execution of MKT SELL {ENTRY}"]
    check_final_state("quarter_end_2011", tmp_path / "journal.sqlite", orders, fills, positions, kills)
    iwm = [f for f in fills if f.symbol == "IWM"]
    assert sum(f.shares for f in iwm if f.side == "SLD") == FILLED == sum(f.shares for f in iwm if f.side == "BOT")
    # The exit that closed the position (stop, target or time exit) was sized to what filled.
    closing = [o for o in orders if o.symbol == "IWM" and o.action == "BUY" and o.filled]
    assert [o.quantity for o in closing] == [FILLED], [(o.order_ref, o.order_type, o.quantity) for o in closing]
    assert seen["exits"]
    # The files of the last run agree with the gateway: the entry ended Canceled after its 2, the exits
    # went out for 2, and trades.csv has the one IWM trade of 2 shares.
    run = tmp_path / "run01"
    trades = [t for t in _csv(run / "trades.csv") if t["symbol"] == "IWM"]
    assert [float(t["size"]) for t in trades] == [FILLED], trades
    rows = [r for r in _csv(run / "orders.csv") if r["symbol"] == "IWM" and r["time"] >= "2011-12"]
    # The row ending the entry says what of it filled (orders.csv: every row ending an order does).
    assert [float(r["filled_size"]) for r in rows if r["reason"] == "entry" and r["status"] == "Canceled"] == [
        FILLED], rows
    resized = {(r["reason"], float(r["size"])) for r in rows if r["status"] == "Submitted" and r["reason"] in
               ("stop", "target")}
    assert {("stop", FILLED), ("target", FILLED)} <= resized, rows
