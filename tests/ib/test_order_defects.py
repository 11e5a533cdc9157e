"""Issue 10, defects 1-7: orders against the simulated gateway behaving like IB Gateway, both libraries.

The gateway refuses off-tick prices (110), answers a reject with 201 then
Inactive (nothing remaining), reports only the current day's executions and
completed orders, and pushes open orders at connect.
"""
import datetime as dt

import backtrader as bt
import pytest

from runner.ib.ib_config import RiskLimits
from runner.ib.journal import Journal

from harness import REPLAY_PATIENCE, SESSIONS, WARMUP, Recorder, gateway, live_run, synthetic_daily, wait_for
from one_trade import OneTrade

WIDE = dict(stop_pct=20.0, target_pct=20.0, hold=20)   # exits that never fill on these bars


@pytest.fixture
def bars():
    return synthetic_daily(1, SESSIONS)


def day(bars, i) -> dt.date:
    return bars.index[i].date()


def go_live(run):
    run.start()
    assert wait_for(lambda: run.store.feeds and all(not f.backfilling for f in run.feeds.values())
                    and run.cerebro.runningstrats, 30)
    return run


def seen(run) -> dt.date | None:
    """The latest session the running strategy has decided on (set by its own thread)."""
    strategy = run.strategy
    if hasattr(strategy, "last_day"):
        return strategy.last_day
    return strategy.bars[-1][0] if strategy.bars else None


def advance(gw, run, bars, i, hour="16:30"):
    """Replay up to ``hour`` of session ``i`` and wait until the bot has seen the bars completed by then."""
    gw.advance_to(f"{day(bars, i)} {hour}")
    last = i if hour >= "16:00" else i - 1
    assert wait_for(lambda: seen(run) and seen(run) >= day(bars, last), 30)
    run.store.pump()


def finish(gw, run, bars):
    gw.resume()
    assert gw.wait_until_done(REPLAY_PATIENCE)
    assert wait_for(lambda: seen(run) and seen(run) >= day(bars, SESSIONS - 1), 30)
    run.stop()
    return run.strategies[0]


def one_trade(gw, library, tmp_path, bars, risk=None, **params):
    params = {"enter_on": str(day(bars, WARMUP)), **params}
    return live_run(gw, library, OneTrade, tmp_path, risk=risk, **params)


def refs_unique(gw):
    refs = [o.order_ref for o in gw.orders()]
    assert len(refs) == len(set(refs)), refs
    return refs


# -- 1: prices on the contract's tick ---------------------------------------------------------------
def test_stop_and_target_go_out_on_the_tick_in_the_safe_direction(library, bars, tmp_path):
    with gateway(bars) as gw:
        strategy = finish(gw, go_live(one_trade(gw, library, tmp_path, bars, **WIDE)), bars)
        orders = gw.orders()
        at_gateway = {o.order_type: o for o in orders}
    assert len(orders) == 3, "the exits were modified with the fill, not sent again"
    # Stop and target keep their distance from the decision close, moved with the entry's fill.
    close = bars["close"].iloc[WARMUP]
    shift = at_gateway["MKT"].avg_fill_price - close   # exits keep their distance from the fill
    stop, target = at_gateway["STP"], at_gateway["LMT"]
    assert stop.aux_price == pytest.approx(round(-(-(close * 0.8 + shift) // 0.01) * 0.01, 2))   # SELL stop: up
    assert target.lmt_price == pytest.approx(round(-(-(close * 1.2 + shift) // 0.01) * 0.01, 2))
    assert round(stop.aux_price * 100) == pytest.approx(stop.aux_price * 100, abs=1e-6)
    assert stop.status in ("PreSubmitted", "Submitted") and target.status == "Submitted"
    assert at_gateway["MKT"].status == "Filled"
    assert stop.parent_id == target.parent_id == at_gateway["MKT"].order_id, "attached to the entry"
    # Moved in place: IB's modification (the same orderId sent again), recorded as one, never a new order.
    assert stop.modifications == target.modifications == 1 and at_gateway["MKT"].modifications == 0
    journal = Journal(tmp_path / "journal.sqlite", read_only=True)
    for moved in (stop, target):
        rows = [r["status"] for r in journal.statuses(moved.order_ref)]
        assert rows.count("Modified") == 1 and rows.index("Modified") > 0, rows
    assert strategy.statuses("stop") == ["Submitted", "Accepted", "Accepted"], "the move notified (orders.csv)"


# -- 2: terminal statuses with nothing remaining -------------------------------------------------------
def test_an_off_tick_refusal_110_reaches_the_strategy_as_rejected(library, bars, tmp_path, monkeypatch):
    def plan(s, n):
        if n == WARMUP + 1:
            s.sell(size=1, exectype=bt.Order.Stop, price=1.2345678).addinfo(name="off_tick")

    with gateway(bars) as gw:
        run = live_run(gw, library, Recorder, tmp_path, plan=plan)
        monkeypatch.setattr(type(run.broker), "_min_tick", lambda self, data: 1e-7)   # nothing rounds
        strategy = finish(gw, go_live(run), bars)
        assert gw.orders() == []   # the gateway never accepted it
    assert strategy.statuses("off_tick") == ["Submitted", "Rejected"]
    rows = Journal(tmp_path / "journal.sqlite", read_only=True).orders()
    assert [r["status"] for r in rows] == ["Cancelled"]


def test_a_rejected_entry_cancels_its_exits_before_they_can_fill(library, bars, tmp_path):
    with gateway(bars) as gw:
        gw.reject_next_orders(1, reason="no trading permissions", order_type="MKT")
        strategy = finish(gw, go_live(one_trade(gw, library, tmp_path, bars, stop_pct=0.5, target_pct=0.5)), bars)
        at_gateway, fills, positions = gw.orders(), gw.fills(), gw.positions()
    assert strategy.statuses("entry") == ["Submitted", "Rejected"]
    # The exits go out attached to the entry: the gateway cancels them with it, or refuses them when
    # they arrive after it was refused; either way they never work on their own.
    assert strategy.statuses("stop")[-1] in ("Canceled", "Rejected")
    assert strategy.statuses("target")[-1] in ("Canceled", "Rejected")
    by_type = {o.order_type: o for o in at_gateway}
    assert by_type["MKT"].status == "Inactive"
    assert by_type["STP"].status in ("Cancelled", "Inactive") and by_type["LMT"].status in ("Cancelled", "Inactive")
    assert by_type["STP"].parent_id == by_type["LMT"].parent_id == by_type["MKT"].order_id
    assert fills == [] and positions == {}
    assert strategy.trade_plan is None


def test_a_refused_exit_is_sent_again_once_then_the_position_is_flattened(library, bars, tmp_path):
    with gateway(bars) as gw:
        gw.reject_next_orders(2, reason="stop refused", order_type="STP")
        strategy = finish(gw, go_live(one_trade(gw, library, tmp_path, bars, **WIDE)), bars)
        at_gateway, positions = gw.orders(), gw.positions()
        refs_unique(gw)
    assert strategy.statuses("stop") == ["Submitted", "Rejected", "Submitted", "Rejected"]
    assert strategy.statuses("flatten") == ["Submitted", "Accepted", "Completed"]
    assert "SPY" not in positions, "flattened at market after the second refusal"
    assert not [o for o in at_gateway if o.status in ("Submitted", "PreSubmitted")], "nothing left working"


# -- 3: restart on a later day ------------------------------------------------------------------------
def test_restart_on_a_later_day_adopts_the_position_and_its_working_exits(library, bars, tmp_path):
    with gateway(bars) as gw:
        first = go_live(one_trade(gw, library, tmp_path, bars, **WIDE))
        advance(gw, first, bars, WARMUP + 1)        # the entry fills at this session's open
        assert wait_for(lambda: first.strategy.trade_plan is not None and first.strategy.trade_plan.filled, 20)
        size = first.strategy.trade_plan.size
        first.stop()
        sent_by_first = len(gw.orders())   # the entry and its exits (re-sent once, anchored to the fill)
        gw.advance_to(f"{day(bars, WARMUP + 3)} 11:00")   # two sessions later
        second = go_live(one_trade(gw, library, tmp_path, bars, backfill_bars=WARMUP + 3, **WIDE))
        strategy = finish(gw, second, bars)
        at_gateway, positions = gw.orders(), gw.positions()
        refs_unique(gw)
    assert len(at_gateway) == sent_by_first, "nothing sent again"
    assert positions["SPY"].quantity == size
    assert strategy.statuses("entry") == ["Submitted", "Accepted", "Completed"]
    assert strategy.trade_plan is not None and strategy.trade_plan.filled
    working = {o.order_ref for o in at_gateway if o.status in ("Submitted", "PreSubmitted")}
    assert {o.info.orderRef for o in strategy.exit_orders} >= working and len(working) == 2


def test_exits_missing_after_a_restart_on_a_later_day_are_recreated(library, bars, tmp_path):
    with gateway(bars) as gw:
        first = go_live(one_trade(gw, library, tmp_path, bars, **WIDE))
        advance(gw, first, bars, WARMUP + 1)
        assert wait_for(lambda: first.strategy.trade_plan is not None and first.strategy.trade_plan.filled, 20)
        first.stop()
        gw._call(lambda: gw.exchange.cancel_all())          # the exits vanish while the bot is away
        gw.advance_to(f"{day(bars, WARMUP + 3)} 11:00")
        second = go_live(one_trade(gw, library, tmp_path, bars, backfill_bars=WARMUP + 3, **WIDE))
        assert wait_for(lambda: len([o for o in gw.orders() if o.status in ("Submitted", "PreSubmitted")]) == 2, 20)
        strategy = finish(gw, second, bars)
        at_gateway = gw.orders()
        refs_unique(gw)
    working = [o for o in at_gateway if o.status in ("Submitted", "PreSubmitted")]
    assert sorted(o.order_type for o in working) == ["LMT", "STP"]
    assert all(o.order_ref.endswith(":r1") for o in working), "new orderRefs, never the old ones again"
    assert strategy.trade_plan is not None and strategy.trade_plan.filled


def test_an_entry_that_filled_while_no_run_was_connected_is_followed_on_a_later_day(library, bars, tmp_path):
    """Killed after sending the entry, restarted after the day it filled: the gateway no longer reports
    that execution, the account's position and the journal's unfinished entry explain each other."""
    with gateway(bars) as gw:
        first = go_live(one_trade(gw, library, tmp_path, bars, **WIDE))
        advance(gw, first, bars, WARMUP, hour="17:00")
        assert wait_for(lambda: len(gw.orders()) == 3, 20), "entry and its exits sent"
        first.stop()                                       # gone before the entry fills at the next open
        gw.advance_to(f"{day(bars, WARMUP + 2)} 11:00")
        assert gw.positions()["SPY"].quantity > 0
        second = go_live(one_trade(gw, library, tmp_path, bars, backfill_bars=WARMUP + 2, **WIDE))
        strategy = finish(gw, second, bars)
        at_gateway, positions = gw.orders(), gw.positions()
        refs_unique(gw)
    assert len(at_gateway) == 3, "nothing sent again"
    assert strategy.statuses("entry") == ["Submitted", "Accepted", "Completed"]
    assert strategy.trade_plan is not None and strategy.trade_plan.filled
    assert positions["SPY"].quantity == strategy.trade_plan.size == strategy.position.size
    working = [o for o in at_gateway if o.status in ("Submitted", "PreSubmitted")]
    assert sorted(o.order_type for o in working) == ["LMT", "STP"], "its exits still protect it"
    entry = next(r for r in Journal(tmp_path / "journal.sqlite", read_only=True).orders() if r["order_type"] == "MKT")
    assert entry["status"] == "Filled"


def test_a_fill_while_away_is_traced_to_the_entry_sent_last_not_to_a_stale_unfinished_order(library, bars,
                                                                                            tmp_path):
    """The journal also holds an unfinished buy of an old window (a run died before hearing its end): the
    position is explained by the entry sent last, and the stale order is never taken for it."""
    from runner.ib.journal import OrderIntent

    stale = "flowbot:OneTrade:SPY:20170103T235959:1"
    old = Journal(tmp_path / "journal.sqlite")
    old.record_intent(OrderIntent(stale, "", "SPY", "BUY", 1000, "MKT", tif="DAY"))
    old.record_sent(stale, 1)
    old.close()
    with gateway(bars) as gw:
        first = go_live(one_trade(gw, library, tmp_path, bars, **WIDE))
        advance(gw, first, bars, WARMUP, hour="17:00")
        assert wait_for(lambda: len(gw.orders()) == 3, 20), "entry and its exits sent"
        first.stop()
        gw.advance_to(f"{day(bars, WARMUP + 2)} 11:00")   # the entry filled at the next open, no run connected
        second = go_live(one_trade(gw, library, tmp_path, bars, backfill_bars=WARMUP + 2, **WIDE))
        strategy = finish(gw, second, bars)
        refs_unique(gw)
    journal = Journal(tmp_path / "journal.sqlite", read_only=True)
    assert journal.fills(stale) == [], "the stale order never filled"
    assert journal.order(stale)["status"] in ("Lost", "Cancelled")
    entry = next(r for r in journal.orders() if r["order_type"] == "MKT" and r["order_ref"] != stale)
    assert entry["status"] == "Filled" and sum(f["shares"] for f in journal.fills(entry["order_ref"])) == entry["quantity"]
    assert strategy.statuses("entry") == ["Submitted", "Accepted", "Completed"]


def test_an_order_whose_executions_the_journal_holds_is_journaled_filled_at_the_next_start(library, bars, tmp_path):
    """Killed between the entry's execution and its Filled status (the journal holds the fill, the order row
    still says Submitted), restarted after that day: the gateway no longer reports the order; the journal's
    fills say it filled, and the row ends Filled, not working forever."""
    import sqlite3

    with gateway(bars) as gw:
        first = go_live(one_trade(gw, library, tmp_path, bars, **WIDE))
        advance(gw, first, bars, WARMUP + 1)
        assert wait_for(lambda: first.strategy.trade_plan is not None and first.strategy.trade_plan.filled, 20)
        entry_ref = first.strategy.notes[0][3]
        first.stop()
        with sqlite3.connect(tmp_path / "journal.sqlite") as db:   # the state a kill at that moment leaves
            db.execute("UPDATE orders SET status='Submitted', filled=0 WHERE order_ref=?", (entry_ref,))
        gw.advance_to(f"{day(bars, WARMUP + 3)} 11:00")
        second = go_live(one_trade(gw, library, tmp_path, bars, backfill_bars=WARMUP + 3, **WIDE))
        strategy = finish(gw, second, bars)
        refs_unique(gw)
    row = Journal(tmp_path / "journal.sqlite", read_only=True).order(entry_ref)
    assert (row["status"], row["filled"]) == ("Filled", row["quantity"])
    assert strategy.statuses("entry") == ["Submitted", "Accepted", "Completed"]


# -- 4: "already sent" before the risk check ------------------------------------------------------------
def test_same_day_restart_follows_the_filled_entry_despite_the_position_limit(library, bars, tmp_path):
    risk = RiskLimits(max_position_value=25_000)
    with gateway(bars) as gw:
        first = go_live(one_trade(gw, library, tmp_path, bars, risk=risk, **WIDE))
        advance(gw, first, bars, WARMUP + 1, hour="12:00")
        assert wait_for(lambda: first.strategy.trade_plan is not None and first.strategy.trade_plan.filled, 20)
        first.stop()
        second = go_live(one_trade(gw, library, tmp_path, bars, risk=risk, **WIDE))
        strategy = finish(gw, second, bars)
        at_gateway = gw.orders()
        refs_unique(gw)
    assert strategy.statuses("entry") == ["Submitted", "Accepted", "Completed"]
    assert len(at_gateway) == 3
    assert {o.order_type: o.status for o in at_gateway}["LMT"] == "Submitted", "the target is still working"


# -- 5: a refused order is never re-sent with the same orderRef --------------------------------------------
def test_a_refused_order_is_never_sent_again_with_the_same_ref(library, bars, tmp_path, monkeypatch):
    def plan(s, n):
        if s.bars[-1][0] == day(bars, WARMUP):   # the same decision on the same bar in both runs
            s.sell(size=1, exectype=bt.Order.Limit, price=150.4321987).addinfo(name="refused")

    with gateway(bars) as gw:
        first = live_run(gw, library, Recorder, tmp_path, plan=plan)
        with monkeypatch.context() as m:
            m.setattr(type(first.broker), "_min_tick", lambda self, data: 1e-7)
            go_live(first)
            advance(gw, first, bars, WARMUP, hour="17:00")
            assert wait_for(lambda: first.strategy.statuses("refused")[-1:] == ["Rejected"], 20)
            first.stop()
        second = go_live(live_run(gw, library, Recorder, tmp_path, plan=plan))
        strategy = finish(gw, second, bars)
        assert gw.orders() == [], "the refused decision is not sent again"
    assert strategy.statuses("refused") == ["Submitted", "Accepted", "Rejected"]


# -- 6: an order lost as the socket drops ------------------------------------------------------------------
def test_an_order_lost_as_the_socket_drops_is_sent_again_after_reconnecting(library, bars, tmp_path):
    def plan(s, n):
        if n == WARMUP + 1:
            s.buy(size=3, exectype=bt.Order.Limit, price=1.0).addinfo(name="lost")

    with gateway(bars) as gw:
        run = live_run(gw, library, Recorder, tmp_path, plan=plan)
        real_place = run.store.ib.placeOrder
        swallowed = []
        run.store.ib.placeOrder = lambda contract, order: swallowed.append(order.orderRef)   # never reaches it
        go_live(run)
        advance(gw, run, bars, WARMUP, hour="17:00")
        assert wait_for(lambda: swallowed, 20)
        run.store.ib.placeOrder = real_place
        gw.drop_connections()
        assert wait_for(lambda: any(o.order_ref == swallowed[0] + ":r1" for o in gw.orders()), 30)
        strategy = finish(gw, run, bars)
        refs_unique(gw)
    assert strategy.statuses("lost")[:2] == ["Submitted", "Accepted"]
    statuses = [r["status"] for r in Journal(tmp_path / "journal.sqlite", read_only=True).statuses(swallowed[0])]
    assert statuses[-1] == "Lost"


# -- 7: sizing within the shipped limits ---------------------------------------------------------------
def test_the_shipped_limits_cap_the_size_instead_of_refusing(library, bars, tmp_path):
    risk = RiskLimits(max_position_value=50_000, max_daily_loss=2_000)
    with gateway(bars, cash=1_000_000) as gw:
        strategy = finish(gw, go_live(one_trade(gw, library, tmp_path, bars, risk=risk, **WIDE)), bars)
        entry = next(o for o in gw.orders() if o.order_type == "MKT")
    assert entry.status == "Filled"
    price = entry.avg_fill_price
    assert 0 < entry.quantity * bars["close"].iloc[WARMUP] <= 50_000
    assert entry.quantity * price < 50_000 * 1.05
    assert strategy.statuses("entry") == ["Submitted", "Accepted", "Completed"]


def test_exits_of_an_entry_sized_at_the_position_limit_are_never_refused_by_it(library, bars, tmp_path):
    """The stop and the target close the position the entry opens: measured as if they opened one (the
    target's limit is 20% above the close), they would breach max_position_value and leave it unprotected."""
    risk = RiskLimits(max_position_value=25_000)   # the entry: capped to 248 shares, about 24,980
    with gateway(bars, cash=1_000_000) as gw:
        strategy = finish(gw, go_live(one_trade(gw, library, tmp_path, bars, risk=risk, **WIDE)), bars)
        at_gateway = gw.orders()
        positions = gw.positions()
        refs_unique(gw)
    entry = next(o for o in at_gateway if o.order_type == "MKT")
    assert entry.status == "Filled" and entry.quantity * bars["close"].iloc[WARMUP] * 1.2 > 25_000
    working = {o.order_type: o.quantity for o in at_gateway if o.status in ("Submitted", "PreSubmitted")}
    assert working == {"STP": entry.quantity, "LMT": entry.quantity}, at_gateway
    assert positions["SPY"].quantity == entry.quantity
    for reason in ("stop", "target"):
        assert "Rejected" not in strategy.statuses(reason), (reason, strategy.notes)
