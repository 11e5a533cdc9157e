"""Which exit of a bracket filled while no run was connected (runner/ib/away_fills.py, broker_adopt.py).

An earlier run bought 10 SPY and left its stop (95) and target (110), one OCA group, working at the gateway;
on a later day the account is flat and the gateway reports neither exit (its reports are today's only). The
broker, on its first bar (the feeds have backfilled), journals the exit the bars show filled, at its price,
says how it knows in the journal, and journals the other member cancelled by the group.
"""
import datetime as dt

import backtrader as bt
import pandas as pd
import pytest

from runner.backtest.feeds import make_feed
from runner.ib import away_fills, events
from runner.ib.bars import Bar
from runner.ib.broker import IBBroker
from runner.ib.ib_config import IBConfig, RiskLimits
from runner.ib.journal import Journal, OrderIntent
from runner.ib.sessions import NEW_YORK
from runner.ib.store import IBStore

ACCOUNT = "DU1234567"
ENTRY = "flowbot:fade:SPY:20240304T235959:1"
STOP, TARGET = ENTRY[:-1] + "2", ENTRY[:-1] + "3"


def day(d: str, o, h, low, c) -> tuple[Bar, dt.datetime]:
    start = dt.datetime.fromisoformat(d).replace(tzinfo=NEW_YORK)
    return Bar(start, o, h, low, c, 1e6), start.replace(hour=16)


QUIET = day("2024-03-05", 100, 101, 99, 100)   # reaches neither exit


class Idle(bt.Strategy):
    def next(self):
        pass


def journal_bracket(journal: Journal) -> None:
    journal.record_intent(OrderIntent(ENTRY, ACCOUNT, "SPY", "BUY", 10, "MKT"))
    journal.record_fill("e1", ENTRY, dt.datetime(2024, 3, 5, 14, 30, tzinfo=dt.timezone.utc), "SPY", "BOT", 10, 100.0)
    journal.record_commission("e1", 1.0)
    journal.record_status(ENTRY, "Filled", 10, 0, avg_price=100.0)
    for ref, kind, limit, stop in ((STOP, "STP", None, 95.0), (TARGET, "LMT", 110.0, None)):
        journal.record_intent(OrderIntent(ref, ACCOUNT, "SPY", "SELL", 10, kind, limit_price=limit, aux_price=stop,
                                          tif="GTC", parent_ref=ENTRY, oca_group=STOP))
        journal.record_status(ref, "Submitted", 0, 10)


def restart_flat(tmp_path, library, bars):
    """A later day: the account flat, the gateway knowing none of the bracket; the broker runs one replay."""
    store = IBStore(IBConfig(library=library))
    store.journal = Journal(tmp_path / "journal.sqlite")
    store.account = ACCOUNT
    journal_bracket(store.journal)
    placed = []
    store.place = lambda contract, specs: placed.extend(specs)
    booked = frozenset(f["exec_id"] for f in store.journal.fills())
    broker = IBBroker(store, events.Reconciled(100_000.0, {}, {}, [], {}, booked), RiskLimits())
    index = pd.date_range("2024-03-11", periods=3, freq="B", tz="America/New_York")
    feed = make_feed(pd.DataFrame({"open": 100.0, "high": 101.0, "low": 99.0, "close": 100.0, "volume": 1e6},
                                  index=index), "SPY")
    feed.contract = "SPY-contract"
    feed.bars_known = lambda: list(bars)   # what an IBFeed backfilled (IBFeed.bars_known)
    broker.register_feeds([feed])
    cerebro = bt.Cerebro(stdstats=False, quicknotify=True)
    cerebro.adddata(feed, name="SPY")
    cerebro.setbroker(broker)
    cerebro.addstrategy(Idle)
    cerebro.run()
    journal = store.journal
    fills = [(f["exec_id"], f["side"], f["shares"], f["price"]) for f in journal.fills() if f["order_ref"] != ENTRY]
    status = {ref: journal.order(ref)["status"] for ref in (STOP, TARGET)}
    messages = {ref: [r["message"] for r in journal.statuses(ref) if r["message"]] for ref in (STOP, TARGET)}
    journal.close()
    assert placed == [], "nothing is sent for a flat account"
    return fills, status, messages


def test_a_stop_that_filled_while_away_is_journaled_as_the_stop_at_its_price(tmp_path, library):
    bars = [QUIET, day("2024-03-06", 99, 100, 94, 95), day("2024-03-07", 96, 111, 95, 110)]
    fills, status, messages = restart_flat(tmp_path, library, bars)
    assert fills == [(f"inferred:{STOP}", "SLD", 10, 95.0)]
    assert status == {STOP: "Filled", TARGET: "Cancelled"}
    [how] = messages[STOP]
    assert "from the bars" in how and "2024-03-06" in how and "low 94 reached the stop 95" in how, how
    assert any("OCA group" in m for m in messages[TARGET]), messages[TARGET]


def test_a_target_that_filled_while_away_is_journaled_as_the_target_at_its_price(tmp_path, library):
    bars = [QUIET, day("2024-03-06", 101, 112, 100, 111), day("2024-03-07", 99, 100, 90, 92)]
    fills, status, messages = restart_flat(tmp_path, library, bars)
    assert fills == [(f"inferred:{TARGET}", "SLD", 10, 110.0)]
    assert status == {STOP: "Cancelled", TARGET: "Filled"}
    [how] = messages[TARGET]
    assert "from the bars" in how and "high 112 reached the limit 110" in how, how


def test_a_stop_gapped_through_is_journaled_at_the_open(tmp_path, library):
    fills, status, messages = restart_flat(tmp_path, library, [QUIET, day("2024-03-06", 93, 94, 90, 91)])
    assert fills == [(f"inferred:{STOP}", "SLD", 10, 93.0)]
    assert "through the stop 95: filled at the open" in messages[STOP][0], messages[STOP]


def test_a_bar_reaching_both_exits_is_taken_as_the_stop_and_said_to_be_ambiguous(tmp_path, library):
    fills, status, messages = restart_flat(tmp_path, library, [QUIET, day("2024-03-06", 100, 111, 94, 100)])
    assert fills == [(f"inferred:{STOP}", "SLD", 10, 95.0)]
    assert status == {STOP: "Filled", TARGET: "Cancelled"}
    assert "ambiguous" in messages[STOP][0] and "conservative" in messages[STOP][0], messages[STOP]


def test_without_bars_that_reach_an_exit_the_newest_is_a_guess_said_so(tmp_path, library):
    fills, status, messages = restart_flat(tmp_path, library, [QUIET])
    assert fills == [(f"inferred:{TARGET}", "SLD", 10, 110.0)]
    assert "a guess" in messages[TARGET][0], messages[TARGET]


def test_bars_before_the_orders_worked_are_no_evidence():
    """The decision bar (03-04) and the entry's fill (03-05 14:30 UTC) bound the bars that count."""
    rows = [dict(order_ref=STOP, order_type="STP", action="SELL", aux_price=95.0, limit_price=None),
            dict(order_ref=TARGET, order_type="LMT", action="SELL", aux_price=None, limit_price=110.0)]
    since = away_fills.decided_at(STOP)
    assert since == dt.datetime(2024, 3, 4, 23, 59, 59, tzinfo=NEW_YORK)
    before = [day("2024-03-04", 100, 100, 90, 100)]   # the decision's own bar: the orders did not work yet
    assert away_fills.which_filled(rows, before, {STOP: since, TARGET: since}) is None
    later = before + [day("2024-03-05", 100, 111, 99, 110)]
    assert away_fills.which_filled(rows, later, {STOP: since, TARGET: since}).order_ref == TARGET
    # A buy stop (covering a short) triggers on the high.
    cover = [dict(order_ref=STOP, order_type="STP", action="BUY", aux_price=105.0, limit_price=None)]
    verdict = away_fills.which_filled(cover, later, {STOP: since})
    assert (verdict.order_ref, verdict.price) == (STOP, 105.0)
