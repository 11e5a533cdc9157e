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
from runner.ib.bars import Bar, BarSize
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


def run_restart(store: IBStore, booked: frozenset, bars) -> None:
    """A restart's broker on ``store`` (the account's snapshot booking ``booked``) runs a short replay of SPY whose
    feed backfilled ``bars`` (IBFeed.bars_known): its first bar runs the inference."""
    broker = IBBroker(store, events.Reconciled(100_000.0, {}, {}, [], {}, booked), RiskLimits())
    index = pd.date_range("2024-03-11", periods=3, freq="B", tz="America/New_York")
    feed = make_feed(pd.DataFrame({"open": 100.0, "high": 101.0, "low": 99.0, "close": 100.0, "volume": 1e6},
                                  index=index), "SPY")
    feed.contract = "SPY-contract"
    feed.bars_known = lambda: list(bars)
    broker.register_feeds([feed])
    cerebro = bt.Cerebro(stdstats=False, quicknotify=True)
    cerebro.adddata(feed, name="SPY")
    cerebro.setbroker(broker)
    cerebro.addstrategy(Idle)
    cerebro.run()


def restart_flat(tmp_path, library, bars, times=None):
    """A later day: the account flat, the gateway knowing none of the bracket; the broker runs one replay.
    ``times``: a list the inferred fills' journaled times are added to."""
    store = IBStore(IBConfig(library=library))
    store.journal = Journal(tmp_path / "journal.sqlite")
    store.account = ACCOUNT
    journal_bracket(store.journal)
    placed = []
    store.place = lambda contract, specs: placed.extend(specs)
    run_restart(store, frozenset(f["exec_id"] for f in store.journal.fills()), bars)
    journal = store.journal
    fills = [(f["exec_id"], f["side"], f["shares"], f["price"]) for f in journal.fills() if f["order_ref"] != ENTRY]
    status = {ref: journal.order(ref)["status"] for ref in (STOP, TARGET)}
    messages = {ref: [r["message"] for r in journal.statuses(ref) if r["message"]] for ref in (STOP, TARGET)}
    if times is not None:
        times.extend(f["time"] for f in journal.fills() if f["exec_id"].startswith("inferred:"))
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


def test_an_exit_inferred_from_the_bars_is_journaled_at_the_bar_s_time_not_the_restart_s(tmp_path, library):
    """The fill time is the bar's (in UTC, as the gateway's executions), so the journal orders it among the
    fills as it happened; a gap through the stop fills at the session's open."""
    times = []
    restart_flat(tmp_path / "in_range", library, [QUIET, day("2024-03-06", 99, 100, 94, 95)], times)
    restart_flat(tmp_path / "gap", library, [QUIET, day("2024-03-07", 93, 94, 90, 91)], times)
    assert [t[:16] for t in times] == ["2024-03-06T21:00", "2024-03-07T14:30"], times
    assert all(t.endswith("+00:00") for t in times), times


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


def minute(at: str, o, h, low, c) -> tuple[Bar, dt.datetime]:
    start = dt.datetime.fromisoformat(at).replace(tzinfo=NEW_YORK)
    return Bar(start, o, h, low, c, 1e4), start + dt.timedelta(minutes=1)


class _Feed:
    """What _bars_of reads of a feed: its symbol, its bar size and the bars it backfilled."""

    def __init__(self, symbol: str, minutes: int, bars):
        self.p = type("P", (), {"symbol": symbol})()
        self._name = symbol
        self.size = BarSize(minutes)
        self.bars_known = lambda: list(bars)


def _broker_with(feeds) -> IBBroker:
    store = IBStore(IBConfig(library="ib_insync"))
    broker = IBBroker(store, events.Reconciled(100_000.0, {}, {}, [], {}, frozenset()), RiskLimits())
    broker._feeds = feeds
    return broker


#: The day after the entry: the daily bar reaches both exits (ambiguous on its own); its minutes say the
#: target came first.
BOTH_DAY = day("2024-03-06", 100, 111, 94, 100)
MINUTES = [minute("2024-03-05 15:59", 100, 100, 100, 100),
           minute("2024-03-06 09:30", 100, 111, 100, 110), minute("2024-03-06 09:31", 110, 110, 94, 95)]


def test_of_a_daily_and_a_1_minute_feed_the_finer_bars_decide_when_they_cover_the_time():
    rows = [dict(order_ref=STOP, order_type="STP", action="SELL", aux_price=95.0, limit_price=None),
            dict(order_ref=TARGET, order_type="LMT", action="SELL", aux_price=None, limit_price=110.0)]
    since = dt.datetime(2024, 3, 5, 16, 0, tzinfo=NEW_YORK)
    feeds = [_Feed("SPY", 0, [QUIET, BOTH_DAY]), _Feed("SPY", 1, MINUTES), _Feed("QQQ", 1, [])]
    bars = _broker_with(feeds)._bars_of("SPY", since)
    assert bars == MINUTES
    verdict = away_fills.which_filled(rows, bars, {STOP: since, TARGET: since})
    assert (verdict.order_ref, verdict.price, verdict.ambiguous) == (TARGET, 110.0, False), verdict
    # On the daily bars alone the same day is ambiguous and taken as the stop.
    daily = away_fills.which_filled(rows, [QUIET, BOTH_DAY], {STOP: since, TARGET: since})
    assert (daily.order_ref, daily.ambiguous) == (STOP, True), daily


def test_minute_bars_that_start_after_the_orders_worked_give_way_to_the_daily_bars():
    """A 1-minute feed backfills a few days only: if it does not reach back to when the orders worked, what
    it shows would miss the start, so the daily feed (reaching further back) decides."""
    since = dt.datetime(2024, 3, 4, 16, 0, tzinfo=NEW_YORK)
    feeds = [_Feed("SPY", 1, MINUTES), _Feed("SPY", 0, [day("2024-03-04", 100, 101, 99, 100), BOTH_DAY])]
    assert _broker_with(feeds)._bars_of("SPY", since) == feeds[1].bars_known()
    # Neither reaches back: the one reaching back furthest.
    early = dt.datetime(2024, 1, 2, 16, 0, tzinfo=NEW_YORK)
    assert _broker_with(feeds)._bars_of("SPY", early) == feeds[1].bars_known()
    assert _broker_with(feeds)._bars_of("IWM", since) == []


# -- an entry and its exit both filled while no run was connected (broker_round_trips.py) --------------------------
# The account is flat and so are the journal's fills: only the bars tell that the entry the gateway acknowledged
# filled and which exit closed it.

def journal_unfilled_bracket(journal: Journal, ref: str = ENTRY, kind: str = "MKT", status: str = "Submitted",
                             limit: float | None = None, tif: str = "DAY", perm_id: int | None = 7001) -> None:
    stop, target = ref[:-1] + "2", ref[:-1] + "3"
    journal.record_intent(OrderIntent(ref, ACCOUNT, "SPY", "BUY", 10, kind, limit_price=limit, tif=tif))
    if status != "Intent":
        journal.record_sent(ref, len(journal.orders()))
    if status not in ("Intent", "Sent"):
        journal.record_status(ref, status, 0, 10, perm_id=perm_id)
    for r, k, lmt, stp in ((stop, "STP", None, 95.0), (target, "LMT", 110.0, None)):
        journal.record_intent(OrderIntent(r, ACCOUNT, "SPY", "SELL", 10, k, limit_price=lmt, aux_price=stp,
                                          tif="GTC", parent_ref=ref, oca_group=stop))
        if status != "Intent":
            journal.record_sent(r, len(journal.orders()))
        if status not in ("Intent", "Sent"):
            journal.record_status(r, "PreSubmitted", 0, 10)


def restart_after_round_trip(tmp_path, library, bars, *brackets):
    """A later day: the account flat, the journal's fills flat, the gateway knowing none of the orders."""
    from loguru import logger
    store = IBStore(IBConfig(library=library))
    store.journal = Journal(tmp_path / "journal.sqlite")
    store.account = ACCOUNT
    for kwargs in brackets or ({},):
        journal_unfilled_bracket(store.journal, **kwargs)
    placed, warnings = [], []
    store.place = lambda contract, specs: placed.extend(specs)
    sink = logger.add(lambda m: warnings.append(m.record["message"]), level="WARNING")
    try:
        run_restart(store, frozenset(), bars)
    finally:
        logger.remove(sink)
    journal = store.journal
    fills = [(f["exec_id"], f["side"], f["shares"], f["price"], f["time"][:16]) for f in journal.fills()]
    status = {r["order_ref"]: r["status"] for r in journal.orders()}
    messages = {r["order_ref"]: [m["message"] for m in journal.statuses(r["order_ref"]) if m["message"]]
                for r in journal.orders()}
    journal.close()
    assert placed == [], "nothing is sent for a flat account"
    return fills, status, messages, warnings


DECISION_DAY = day("2024-03-04", 100, 101, 99, 100)   # the entry's decision bar: the feed reaches back to it


def test_an_entry_and_its_target_both_filled_while_away_are_journaled_from_the_bars(tmp_path, library):
    bars = [DECISION_DAY, day("2024-03-05", 100, 112, 99.5, 111)]
    fills, status, messages, _ = restart_after_round_trip(tmp_path, library, bars)
    assert [f[:4] for f in fills] == [(f"inferred:{ENTRY}", "BOT", 10, 100.0), (f"inferred:{TARGET}", "SLD", 10, 110.0)]
    assert fills[0][4] == "2024-03-05T14:30", fills   # at the open of the next session (09:30 New York, in UTC)
    assert status == {ENTRY: "Filled", STOP: "Cancelled", TARGET: "Filled"}
    for ref in (ENTRY, TARGET):
        [how] = messages[ref]
        assert "inferred from the bars while no run was connected" in how, how
    assert "market order, filled at the open 100" in messages[ENTRY][0]
    assert "high 112 reached the limit 110" in messages[TARGET][0]
    assert any("OCA group" in m for m in messages[STOP]), messages[STOP]


def test_a_moc_entry_fills_at_the_close_and_its_exits_work_only_after_it(tmp_path, library):
    # 03-05 reaches the stop before the close the MOC entry filled at: no evidence; 03-06 reaches the target.
    bars = [DECISION_DAY, day("2024-03-05", 100, 101, 90, 100), day("2024-03-06", 100, 111, 99, 110)]
    fills, status, messages, _ = restart_after_round_trip(tmp_path, library, bars, dict(kind="MOC"))
    assert [f[:4] for f in fills] == [(f"inferred:{ENTRY}", "BOT", 10, 100.0), (f"inferred:{TARGET}", "SLD", 10, 110.0)]
    assert fills[0][4] == "2024-03-05T21:00", fills   # the 16:00 close, in UTC
    assert status == {ENTRY: "Filled", STOP: "Cancelled", TARGET: "Filled"}
    assert "market-on-close order, filled at the close 100 of the 2024-03-05 session" in messages[ENTRY][0]


def test_only_entries_the_gateway_acknowledged_are_inferred_and_an_expired_day_limit_is_not(tmp_path, library):
    """Four SPY entries, all gone from the gateway: a MKT it acknowledged (inferred with its stop), one never
    sent (Intent), one sent but never acknowledged (lost with the socket) and a DAY limit at 97 that its
    session (03-05, low 98) never reached: it expired, though 03-06 falls to 94."""
    unsent, lost, expired = (f"flowbot:{label}:SPY:20240304T235959:1" for label in ("unsent", "lost", "expired"))
    bars = [DECISION_DAY, day("2024-03-05", 100, 101, 98, 99), day("2024-03-06", 99, 99, 94, 95)]
    fills, status, messages, warnings = restart_after_round_trip(
        tmp_path, library, bars, {}, dict(ref=unsent, status="Intent"), dict(ref=lost, status="Sent", perm_id=None),
        dict(ref=expired, kind="LMT", limit=97.0, status="Submitted"))
    assert [f[:4] for f in fills] == [(f"inferred:{ENTRY}", "BOT", 10, 100.0), (f"inferred:{STOP}", "SLD", 10, 95.0)]
    assert status[ENTRY] == status[STOP] == "Filled" and status[TARGET] == "Cancelled"
    assert "low 94 reached the stop 95" in messages[STOP][0], messages[STOP]
    # Their own handling: an Intent is left to be sent (or dropped by its decision), a sent one unknown to the
    # gateway is marked Lost; none is credited with a fill.
    assert status[unsent] == "Intent" and status[lost] == "Lost" and status[expired] == "Lost", status
    for ref in (unsent, lost, expired):
        assert not any("inferred" in m for m in messages[ref] + messages[ref[:-1] + "2"] + messages[ref[:-1] + "3"])


def test_a_gtc_limit_entry_counts_only_once_the_bars_cross_its_price(tmp_path, library):
    lmt = dict(kind="LMT", limit=98.0, tif="GTC")
    bars = [DECISION_DAY, day("2024-03-05", 100, 101, 99, 100), day("2024-03-06", 99, 99, 97, 98),
            day("2024-03-07", 99, 111, 98, 110)]
    fills, status, messages, _ = restart_after_round_trip(tmp_path, library, bars, lmt)
    assert [f[:4] for f in fills] == [(f"inferred:{ENTRY}", "BOT", 10, 98.0), (f"inferred:{TARGET}", "SLD", 10, 110.0)]
    assert "low 97 reached the limit 98" in messages[ENTRY][0], messages[ENTRY]


def test_without_bars_covering_the_time_nothing_is_journaled_and_a_warning_names_the_orders(tmp_path, library):
    later_only = [day("2024-03-11", 100, 101, 99, 100)]   # the feed reaches back only to after the orders were sent
    fills, status, messages, warnings = restart_after_round_trip(tmp_path, library, later_only)
    assert fills == []
    assert not any("inferred" in m for ms in messages.values() for m in ms), messages
    named = [w for w in warnings if "may have filled while no run was connected" in w]
    assert named and all(ref in named[0] for ref in (ENTRY, STOP, TARGET)) and "TWS" in named[0], warnings
