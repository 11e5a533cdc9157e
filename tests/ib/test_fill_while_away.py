"""An entry that fills at the gateway while no run is connected, the bot back only on a later trading day.

The quarter-end fade's IWM entry (a next-open MKT SELL of 6, its stop and target attached) is sent and journaled
on the 2011-12-23 close; `flowbot paper` is killed (SIGKILL) once the gateway holds the whole bracket, before any
execution reaches it. The entry fills at the 12-27 open with no client connected (the gateway keeps a client's
orders working after it disconnects, as IB does) and the bot is restarted on 12-28, when the gateway's
executions and completed orders (today's only) no longer show that fill: only the account's position (-6 IWM)
does. Behaviour defined (runner/ib/broker_adopt.py ``_infer_fills_while_away``): the restart journals the fill
(``inferred:<orderRef>``), takes the 6 as the position, and follows the entry's stop and target still working at
the gateway; then the window runs to its end: flat, no orderRef sent twice, journal and gateway agree.
Which exit of an OCA group filled while away is told by the bars the restart backfills (runner/ib/away_fills.py):
the last two tests close a bracket by its target, and by its stop, while no run is connected.
"""
from __future__ import annotations

import pandas as pd

from kill_harness import bot_orders, check_final_state, journal_rows, run_kills
from harness import wait_for

ENTRY = "flowbot:qe_iwm:IWM:20111223T235959:1"
STOP, TARGET = ENTRY[:-1] + "2", ENTRY[:-1] + "3"
SHARES = 6


def _working_exits(gw) -> dict[str, tuple]:
    return {o.order_ref: (o.order_type, o.action, o.quantity - o.filled) for o in bot_orders(gw)
            if o.symbol == "IWM" and o.status in ("PreSubmitted", "Submitted")}


def test_an_entry_filled_while_no_run_was_connected_is_journaled_and_its_exits_work_after_a_later_day_restart(
        library, tmp_path):
    journal = tmp_path / "journal.sqlite"
    seen = {}

    def on_live(k, gw, run_folder):
        if k != 1:
            return
        seen["day"] = gw.clock.date().isoformat()
        # Filled yesterday: the gateway's reports of today (executions, completed orders) do not show it.
        seen["entry at the gateway"] = [(o.status, o.filled) for o in bot_orders(gw) if o.order_ref == ENTRY]
        seen["position"] = gw.positions()["IWM"].quantity
        seen["fills"] = journal_rows(journal, "SELECT exec_id, side, shares FROM fills WHERE order_ref = "
                                              f"'{ENTRY}'")
        seen["status"] = journal_rows(journal, f"SELECT status FROM orders WHERE order_ref = '{ENTRY}'")
        assert wait_for(lambda: _working_exits(gw) == {STOP: ("STP", "BUY", SHARES), TARGET: ("LMT", "BUY", SHARES)}), \
            _working_exits(gw)
        seen["log"] = (run_folder / "run.log").read_text()

    plan = [("exit", 2, "two days later", "IWM")]
    kills, orders, fills, positions = run_kills("quarter_end_2011", plan, tmp_path, lambda k: library,
                                                on_live=on_live)
    # Killed on the gateway's status of the bracket's last member (the target, held until the entry fills).
    assert [at for at, _, _ in kills] == [f"exit: status of LMT BUY {TARGET}"]
    iwm = [f for f in fills if f.symbol == "IWM" and f.order_ref == ENTRY]
    assert [(f.side, f.shares) for f in iwm] == [("SLD", SHARES)]
    assert _new_york_day(iwm[0].time) < seen["day"] == "2011-12-28", (iwm[0].time, seen["day"])
    assert seen["entry at the gateway"] == [("Filled", SHARES)] and seen["position"] == -SHARES
    assert seen["fills"] == [(f"inferred:{ENTRY}", "SLD", SHARES)], seen["fills"]
    assert seen["status"] == [("Filled",)]
    assert "filled while no run was connected" in seen["log"]
    check_final_state("quarter_end_2011", journal, orders, fills, positions, kills)
    # The exits the killed run sent are the ones that worked after the restart: none sent again, none missing.
    refs = [o.order_ref for o in orders if o.order_ref.startswith(ENTRY[:-1])]
    assert sorted(refs) == [ENTRY, STOP, TARGET], refs


def _new_york_day(epoch: float) -> str:
    return pd.Timestamp(epoch, unit="s", tz="UTC").tz_convert("America/New_York").date().isoformat()


TIME_EXIT = "flowbot:qe_iwm:IWM:20111229T235959:1"


def test_an_exit_filled_while_no_run_was_connected_is_journaled_and_the_restart_is_flat(library, tmp_path):
    """The IWM short's time exit (a MOC BUY of 6 for the 12-30 close, in one OCA group with the stop and the
    target) is sent and journaled on 12-29; the bot is killed on the gateway's first status of it, the exit
    fills at the 12-30 close with no client connected (the gateway cancels the stop and target by the OCA
    group) and the bot is back on 2012-01-03, when no report of the gateway shows any of it: the account is
    flat in IWM while the journal's fills say short 6. The restart journals the time exit as filled
    (``inferred:``), holds nothing, sends nothing for IWM again."""
    journal = tmp_path / "journal.sqlite"
    seen = {}

    def on_live(k, gw, run_folder):
        if k == 1:
            seen["day"] = gw.clock.date().isoformat()
            seen["fills"] = journal_rows(journal, "SELECT exec_id, side, shares FROM fills WHERE order_ref = "
                                                  f"'{TIME_EXIT}'")
            seen["working"] = _working_exits(gw)
            seen["how"] = journal_rows(journal, "SELECT message FROM statuses WHERE message LIKE 'inferred:%' AND "
                                                f"order_ref = '{TIME_EXIT}'")

    plan = [("exit", 1, "two days later", "IWM", "MOC")]
    kills, orders, fills, positions = run_kills("quarter_end_2011", plan, tmp_path, lambda k: library,
                                                on_live=on_live)
    assert [at for at, _, _ in kills] == [f"exit: status of MOC BUY {TIME_EXIT}"]
    [closing] = [f for f in fills if f.order_ref == TIME_EXIT]
    assert (closing.side, closing.shares) == ("BOT", SHARES) and _new_york_day(closing.time) == "2011-12-30"
    assert seen["day"] == "2012-01-03"
    assert seen["fills"] == [(f"inferred:{TIME_EXIT}", "BOT", SHARES)], seen["fills"]
    assert seen["working"] == {}, seen["working"]
    # One OCA group with the stop and the target: the bars say the close came before either level.
    assert "market-on-close order: filled at the close" in seen["how"][0][0], seen["how"]
    check_final_state("quarter_end_2011", journal, orders, fills, positions, kills)
    assert [o.order_ref for o in orders if o.symbol == "IWM" and o.filled] == [ENTRY, TIME_EXIT]


SNAP = "flowbot:snapback_iwm:IWM:20121231T"


def _bracket_closed_while_away(library, tmp_path, edit_bars=None):
    """The January snapback's IWM long (a MOC BUY of 7 on the 2012-12-31 close, its stop and target attached):
    the bot is killed on the gateway's third message about an IWM exit (the stop working once the entry
    filled), the exit fills on 2013-01-02 with no client connected and the bot is back on 01-03, when no report
    of the gateway shows it: the account is flat in IWM, the journal's fills long 7."""
    journal = tmp_path / "journal.sqlite"
    seen = {}

    def on_live(k, gw, run_folder):
        if k != 1:
            return
        seen["day"] = gw.clock.date().isoformat()
        seen["orders"] = dict(journal_rows(journal, f"SELECT order_type, status FROM orders WHERE order_ref LIKE "
                                                    f"'{SNAP}%' AND order_type IN ('STP', 'LMT')"))
        seen["fills"] = journal_rows(journal, "SELECT o.order_type, f.side, f.shares, f.price, "
                                              "COALESCE(o.aux_price, o.limit_price) FROM fills f JOIN orders o "
                                              f"USING (order_ref) WHERE f.exec_id LIKE 'inferred:{SNAP}%'")
        seen["how"] = journal_rows(journal, "SELECT message FROM statuses WHERE message LIKE 'inferred:%' AND "
                                            f"order_ref LIKE '{SNAP}%'")

    plan = [("exit", 3, "two days later", "IWM")]
    kills, orders, fills, positions = run_kills("year_end_2012", plan, tmp_path, lambda k: library,
                                                on_live=on_live, edit_bars=edit_bars)
    exits = [f for f in fills if f.symbol == "IWM" and f.side == "SLD"]
    gateway_exit = {o.order_ref: o.order_type for o in orders if o.order_ref.startswith(SNAP) and o.filled
                    and o.action == "SELL"}
    check_final_state("year_end_2012", journal, orders, fills, positions, kills)
    return kills, seen, exits, gateway_exit


def test_a_target_that_filled_while_no_run_was_connected_is_journaled_as_the_target(library, tmp_path):
    kills, seen, exits, gateway_exit = _bracket_closed_while_away(library, tmp_path)
    assert [_new_york_day(f.time) for f in exits] == ["2013-01-02"] and seen["day"] == "2013-01-03", (exits, seen)
    assert list(gateway_exit.values()) == ["LMT"], gateway_exit
    [(kind, side, shares, price, level)] = seen["fills"]
    assert (kind, side, shares, price) == ("LMT", "SLD", 7, level), seen["fills"]
    assert seen["orders"] == {"STP": "Cancelled", "LMT": "Filled"}, seen["orders"]
    assert "from the bars" in seen["how"][0][0], seen["how"]


def _stop_hit_on_jan_2(bars):
    """IWM on 2013-01-02 falls through the stop (about 2940) and never nears the target (about 3110)."""
    bars["IWM"].loc["2013-01-02", ["open", "high", "low", "close"]] = [3000.0, 3010.0, 2850.0, 2870.0]
    if "adj_close" in bars["IWM"]:
        bars["IWM"].loc["2013-01-02", "adj_close"] = 2870.0


def test_a_stop_that_filled_while_no_run_was_connected_is_journaled_as_the_stop(library, tmp_path):
    kills, seen, exits, gateway_exit = _bracket_closed_while_away(library, tmp_path, _stop_hit_on_jan_2)
    assert [_new_york_day(f.time) for f in exits] == ["2013-01-02"] and seen["day"] == "2013-01-03", (exits, seen)
    assert list(gateway_exit.values()) == ["STP"], gateway_exit
    [(kind, side, shares, price, level)] = seen["fills"]
    assert (kind, side, shares, price) == ("STP", "SLD", 7, level), seen["fills"]
    assert seen["orders"] == {"STP": "Filled", "LMT": "Cancelled"}, seen["orders"]
    assert "reached the stop" in seen["how"][0][0], seen["how"]


def _target_hit_on_dec_28(bars):
    """IWM on 2011-12-28, the session after the short entry's fill (attached exits work from the bar after their
    entry's fill), falls 3% from its open, through the target (about 1.2% below the entry), never near the stop."""
    iwm = bars["IWM"]
    opening = float(iwm.loc["2011-12-28", "open"])
    iwm.loc["2011-12-28", ["open", "high", "low", "close"]] = [opening, opening * 1.002, opening * 0.97,
                                                               opening * 0.975]
    if "adj_close" in iwm:
        iwm.loc["2011-12-28", "adj_close"] = opening * 0.975


def test_an_entry_and_its_exit_both_filled_while_no_run_was_connected_are_journaled_from_the_bars(library, tmp_path):
    """The quarter-end fade's IWM entry (a next-open MKT SELL of 6, its stop and target attached) is sent on the
    2011-12-23 close; the bot is killed at the entry, before it fills: on the gateway's status of the bracket's
    last member (the target: the whole bracket is at the gateway), once the bot has journaled the gateway's
    status of the entry (it was acknowledged), and is back three sessions later, on 12-29. Meanwhile the entry
    filled at the 12-27 open and its target on 12-28: the account is flat in IWM, and so are the journal's
    fills, and the gateway's reports of today show neither. The restart journals both from the bars (the entry
    at the 12-27 open, the target at its limit on 12-28), the stop cancelled by the group; the trade is in the
    journal as at the gateway."""
    journal = tmp_path / "journal.sqlite"
    seen = {}

    def acknowledged(k, gw):   # the kill comes once the bot has journaled the gateway's status of the entry
        assert wait_for(lambda: journal_rows(journal, f"SELECT status FROM orders WHERE order_ref = '{ENTRY}'")
                        in ([("PreSubmitted",)], [("Submitted",)])), \
            journal_rows(journal, f"SELECT status FROM orders WHERE order_ref = '{ENTRY}'")

    def on_live(k, gw, run_folder):
        if k != 1:
            return
        seen["day"] = gw.clock.date().isoformat()
        seen["position"] = gw.positions().get("IWM")
        seen["fills"] = journal_rows(journal, "SELECT f.order_ref, f.side, f.shares, f.price FROM fills f "
                                              f"WHERE f.order_ref LIKE '{ENTRY[:-1]}%' ORDER BY f.time")
        seen["status"] = dict(journal_rows(journal, f"SELECT order_ref, status FROM orders WHERE order_ref LIKE "
                                                    f"'{ENTRY[:-1]}%'"))
        seen["how"] = dict(journal_rows(journal, "SELECT order_ref, message FROM statuses WHERE message LIKE "
                                                 f"'inferred:%' AND order_ref LIKE '{ENTRY[:-1]}%'"))

    # Not on the entry's own first status: the gateway may tell that before the attached exits have reached it
    # (seen with ib_async), and an entry without its exits is another case (broker_away: the account short).
    plan = [("exit", 2, "three days later", "IWM")]
    kills, orders, fills, positions = run_kills("quarter_end_2011", plan, tmp_path, lambda k: library,
                                                on_live=on_live, edit_bars=_target_hit_on_dec_28,
                                                before_kill=acknowledged)
    assert [at for at, _, _ in kills] == [f"exit: status of LMT BUY {TARGET}"]
    at_gateway = [(f.order_ref, f.side, f.shares, f.price) for f in sorted(fills, key=lambda f: f.time)
                  if f.order_ref.startswith(ENTRY[:-1])]
    assert [(r, side, n) for r, side, n, _ in at_gateway] == [(ENTRY, "SLD", SHARES), (TARGET, "BOT", SHARES)], \
        at_gateway
    assert [_new_york_day(f.time) for f in sorted(fills, key=lambda f: f.time)
            if f.order_ref.startswith(ENTRY[:-1])] == ["2011-12-27", "2011-12-28"]
    assert seen["day"] == "2011-12-29" and (seen["position"] is None or not seen["position"].quantity), seen
    # The journal holds the trade as the gateway made it: side, shares and price, from the bars.
    assert [(r, side, n, round(p, 4)) for r, side, n, p in seen["fills"]] == \
        [(r, side, n, round(p, 4)) for r, side, n, p in at_gateway], (seen["fills"], at_gateway)
    assert seen["status"] == {ENTRY: "Filled", STOP: "Cancelled", TARGET: "Filled"}, seen["status"]
    assert all("inferred from the bars while no run was connected" in seen["how"][r] for r in (ENTRY, TARGET)), seen
    check_final_state("quarter_end_2011", journal, orders, fills, positions, kills)
    assert [o.order_ref for o in orders if o.symbol == "IWM" and o.filled] == [ENTRY, TARGET]
