"""Kills of `flowbot paper` at fixed points of the simulator's message stream (the proof's harness,
tests/ib/kill_harness.py), each a place the seeded proof (tests/ib/test_kill_restart_proof.py) hits only
some of the time. Each restarts with the library under test and runs the window to its end.
"""
from __future__ import annotations

import pytest

from kill_harness import CLIENT_ID, check_final_state, run_kills


def test_kill_at_the_entrys_execution_then_same_day_restart_protects_the_position(library, tmp_path):
    """Killed on the IWM entry's execution (the simulator stands on it: the entry fills, its attached stop
    and target go live at the gateway while the bot is away, never moved to the fill), restarted the same
    day: the position held keeps its stop and target, sized to it, and they are moved to the fill at the
    gateway (the move the killed run never sent; without it they stayed at the decision's prices)."""
    plan = [("fill", 1, "same day", "IWM")]
    kills, orders, fills, positions = run_kills("quarter_end_2011", plan, tmp_path, lambda k: library)
    assert [at for at, _, _ in kills] == ["fill: execution of MKT SELL flowbot:qe_iwm:IWM:20111223T235959:1"]
    check_final_state("quarter_end_2011", tmp_path / "journal.sqlite", orders, fills, positions, kills)
    # The kill came between the entry's fill and the move of its exits: the restart moved them (IB's
    # modification of the working orders), as the run killed would have.
    exits = [o for o in orders if o.order_ref.startswith("flowbot:qe_iwm:IWM:20111223T235959:")
             and o.order_type in ("STP", "LMT")]
    assert len(exits) == 2 and all(o.modifications for o in exits), [(o.order_ref, o.modifications) for o in exits]


def test_kill_at_the_entrys_first_status_finds_no_live_entry_without_its_stop(library, tmp_path):
    """Killed on the first status the gateway sends about the IWM next-open entry: at that moment the gateway
    has its stop and target too, attached to it (entry, stop and target went out as one bracket, the entry
    untransmitted until the target arrived), so the entry cannot fill unprotected while no run is there; the
    same-day restart binds to all three (no orderRef sent twice) and the window runs to its end."""
    seen = []

    def at_gateway(gw):   # on the simulator's loop, standing on the kill point
        seen.extend((o.ticket.order_ref, o.ticket.order_type, o.ticket.action, o.order_id, o.ticket.parent_id,
                     o.status) for o in gw.exchange.orders.values() if o.client_id == CLIENT_ID)

    plan = [("entry", 1, "same day", "IWM")]
    kills, orders, fills, positions = run_kills("quarter_end_2011", plan, tmp_path, lambda k: library,
                                                on_hit=at_gateway)
    assert [at for at, _, _ in kills] == ["entry: status of MKT SELL flowbot:qe_iwm:IWM:20111223T235959:1"]
    live_entries = [o for o in seen if o[1] == "MKT" and o[2] == "SELL" and not o[4] and o[5] != "PendingSubmit"]
    assert any(o[0] == "flowbot:qe_iwm:IWM:20111223T235959:1" for o in live_entries), seen
    for ref, _, _, order_id, _, _ in live_entries:
        attached = sorted(o[1] for o in seen if o[4] == order_id and o[2] == "BUY")
        assert attached == ["LMT", "STP"], f"entry {ref} live at the gateway with only {attached} attached: {seen}"
    check_final_state("quarter_end_2011", tmp_path / "journal.sqlite", orders, fills, positions, kills)
