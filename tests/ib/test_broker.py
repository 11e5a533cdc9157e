"""The IB broker inside a real Cerebro, against a scripted gateway (no socket).

The scripted gateway answers each placed order with the messages a real one
sends, including its repetitions; the tests assert what the strategy is told.
"""
import datetime as dt

import backtrader as bt
import pandas as pd
import pytest

from runner.backtest.feeds import make_feed
from runner.ib import events
from runner.ib.broker import IBBroker
from runner.ib.ib_config import IBConfig, RiskLimits
from runner.ib.journal import Journal
from runner.ib.store import IBStore

UTC = dt.timezone.utc


def daily_bars(n=6, price=100.0):
    index = pd.date_range("2024-03-04", periods=n, freq="B", tz="America/New_York")
    return pd.DataFrame({"open": price, "high": price + 1, "low": price - 1, "close": price, "volume": 1e6},
                        index=index)


class ScriptedGateway:
    """Stands in for the IB loop: records what leaves, answers with a scenario."""

    def __init__(self, store, scenario):
        self.store, self.scenario = store, scenario
        self.placed, self.cancelled = [], []
        self.exec_seq = 0
        store.place = self.place
        store.cancel = self.cancel

    def place(self, contract, specs):
        for spec in specs:
            assert self.store.journal.order(spec.orderRef) is not None, "journaled before sending"
            self.placed.append(spec)
            for message in self.scenario(self, spec):
                self.store.events.put(message)

    def cancel(self, ref):
        self.cancelled.append(ref)
        spec = next(s for s in self.placed if s.orderRef == ref)
        self.store.events.put(status(spec, "Cancelled", 0, spec.totalQuantity, code=202))

    def fill(self, spec, shares, price, commission=1.0):
        self.exec_seq += 1
        exec_id = f"e{self.exec_seq}"
        side = "BOT" if spec.action == "BUY" else "SLD"
        when = dt.datetime(2024, 3, 5, 14, 30, tzinfo=UTC)
        self.store.journal.record_fill(exec_id, spec.orderRef, when, "SPY", side, shares, price)  # as the store does
        self.store.journal.record_commission(exec_id, commission)
        return [events.Execution(spec.orderRef, exec_id, when, "SPY", side, shares, price),
                events.Commission(exec_id, commission)]


def status(spec, state, filled, remaining, code=0, message=""):
    return events.OrderStatus(spec.orderRef, 1, 7, state, filled, remaining, 0.0, code, message)


class OneOrder(bt.Strategy):
    """On the first bar sends the order built by ``make``; records every notification."""

    params = (("make", None), ("cancel_at", None))

    def __init__(self):
        self.seen = []
        self.orders = []

    def next(self):
        if len(self) == 1:
            self.orders = self.p.make(self) or []
        if self.p.cancel_at == len(self):
            self.cancel(self.orders[0])

    def notify_order(self, order):
        self.seen.append((order.ref, order.getstatusname(), order.executed.size))


def run(tmp_path, make, scenario, risk=None, cash=100_000.0, positions=None, journal_rows=(), cancel_at=None,
        known=None):
    store = IBStore(IBConfig(library="ib_insync"))
    store.journal = Journal(tmp_path / "journal.sqlite")
    store.account = "DU1234567"
    gw = ScriptedGateway(store, scenario)
    for ref in journal_rows:
        from runner.ib.journal import OrderIntent
        store.journal.record_intent(OrderIntent(ref, "DU1234567", "SPY", "BUY", 10, "MKT"))
    booked = frozenset(f["exec_id"] for f in store.journal.fills())   # as the store's reconciliation does
    snapshot = events.Reconciled(cash, positions or {}, {}, [], known or {}, booked)
    broker = IBBroker(store, snapshot, risk or RiskLimits())
    feed = make_feed(daily_bars(), "SPY")
    feed.contract = "SPY-contract"
    broker.register_feeds([feed])
    cerebro = bt.Cerebro(stdstats=False, quicknotify=True)
    cerebro.adddata(feed, name="SPY")
    cerebro.setbroker(broker)
    cerebro.addstrategy(OneOrder, make=make, cancel_at=cancel_at)
    strategy = cerebro.run()[0]
    store.journal.close()   # as the store does when the session ends (the journal is locked while open)
    return strategy, broker, gw


def statuses(strategy, ref=None):
    return [s for r, s, _ in strategy.seen if ref is None or r == ref]


def buy_market(s):
    return [s.buy(size=10)]


def answers_with_repeats(gw, spec):
    q = spec.totalQuantity
    return [status(spec, "PreSubmitted", 0, q), status(spec, "Submitted", 0, q), status(spec, "Submitted", 0, q),
            *gw.fill(spec, q, 101.0), status(spec, "Filled", q, 0), status(spec, "Filled", q, 0)]


def test_market_order_statuses_fill_commission_and_cash(tmp_path):
    strategy, broker, gw = run(tmp_path, buy_market, answers_with_repeats)
    assert statuses(strategy) == ["Submitted", "Accepted", "Completed"]
    assert [(s.orderType, s.action, s.totalQuantity) for s in gw.placed] == [("MKT", "BUY", 10)]
    assert broker.getposition(strategy.data).size == 10
    assert broker.getcash() == pytest.approx(100_000 - 10 * 101.0 - 1.0)
    order = strategy.orders[0]
    assert order.executed.comm == pytest.approx(1.0)
    assert order.info.orderRef == gw.placed[0].orderRef


def test_duplicate_execution_is_counted_once(tmp_path):
    def doubled(gw, spec):
        messages = gw.fill(spec, 10, 101.0)
        return [status(spec, "Submitted", 0, 10), *messages, *messages, status(spec, "Filled", 10, 0)]

    strategy, broker, _ = run(tmp_path, buy_market, doubled)
    assert statuses(strategy) == ["Submitted", "Accepted", "Completed"]
    assert broker.getposition(strategy.data).size == 10


def test_partial_fills_each_executed(tmp_path):
    def partial(gw, spec):
        return [status(spec, "Submitted", 0, 10), *gw.fill(spec, 4, 101.0), status(spec, "Submitted", 4, 6),
                *gw.fill(spec, 6, 102.0), status(spec, "Filled", 10, 0)]

    strategy, broker, _ = run(tmp_path, buy_market, partial)
    assert [(s, size) for _, s, size in strategy.seen] == [
        ("Submitted", 0), ("Accepted", 0), ("Partial", 4), ("Completed", 10)]
    assert strategy.orders[0].executed.price == pytest.approx((4 * 101 + 6 * 102) / 10)


def test_reject_reaches_the_strategy_as_rejected(tmp_path):
    def reject(gw, spec):
        return [status(spec, "Cancelled", 0, 10, code=201, message="Order rejected - reason: no")]

    strategy, broker, _ = run(tmp_path, buy_market, reject)
    assert statuses(strategy) == ["Submitted", "Rejected"]
    assert broker.getposition(strategy.data).size == 0


def test_margin_reject_is_margin(tmp_path):
    def margin(gw, spec):
        return [status(spec, "Submitted", 0, 10),
                status(spec, "Cancelled", 0, 10, code=201, message="Order rejected - reason: insufficient margin")]

    strategy, _, _ = run(tmp_path, buy_market, margin)
    assert statuses(strategy) == ["Submitted", "Accepted", "Margin"]


def test_cancel_confirmed_by_the_gateway_is_canceled(tmp_path):
    def rests(gw, spec):
        return [status(spec, "Submitted", 0, 10)]

    strategy, _, gw = run(tmp_path, lambda s: [s.buy(size=10, exectype=bt.Order.Limit, price=90.0)], rests,
                          cancel_at=3)
    assert statuses(strategy) == ["Submitted", "Accepted", "Canceled"]
    assert gw.cancelled == [gw.placed[0].orderRef]
    assert gw.placed[0].orderType == "LMT" and gw.placed[0].lmtPrice == 90.0


@pytest.mark.parametrize("code", [10148, 161])
def test_a_too_late_cancel_error_leaves_the_order_to_its_fills(tmp_path, code):
    """The libraries mark an order Cancelled on any error; 10148/161 answer a cancel that came too late:
    the order goes on working (here: it fills afterwards), never Canceled, never journaled as Cancelled."""
    def late_cancel(gw, spec):
        return [status(spec, "Submitted", 0, 10),
                status(spec, "Cancelled", 0, 10, code=code, message="cannot be cancelled"),
                *gw.fill(spec, 10, 101.0), status(spec, "Filled", 10, 0)]

    strategy, broker, gw = run(tmp_path, buy_market, late_cancel)
    assert statuses(strategy) == ["Submitted", "Accepted", "Completed"]
    assert broker.getposition(strategy.data).size == 10


def test_untranslatable_order_is_rejected_not_sent(tmp_path):
    strategy, _, gw = run(tmp_path, lambda s: [s.buy(size=2.5)], answers_with_repeats)
    assert statuses(strategy) == ["Submitted", "Rejected"]
    assert gw.placed == []


def test_position_value_limit_rejects(tmp_path):
    strategy, _, gw = run(tmp_path, lambda s: [s.buy(size=100)], answers_with_repeats,
                          risk=RiskLimits(max_position_value=5_000))
    assert statuses(strategy) == ["Submitted", "Rejected"]
    assert gw.placed == []


def test_order_types_translate(tmp_path):
    def make(s):
        return [s.buy(size=1, exectype=bt.Order.Close), s.buy(size=1, exectype=bt.Order.Stop, price=110),
                s.sell(size=1, exectype=bt.Order.StopLimit, price=90, plimit=89),
                s.buy(size=1, exectype=bt.Order.Limit, price=99, on_close=True),
                s.sell(size=1, exectype=bt.Order.StopTrail, trailamount=2.0)]

    _, _, gw = run(tmp_path, make, lambda gw, spec: [])
    assert [(p.orderType, p.tif, p.lmtPrice, p.auxPrice) for p in gw.placed] == [
        ("MOC", "DAY", None, None), ("STP", "GTC", None, 110), ("STP LMT", "GTC", 89, 90),
        ("LOC", "DAY", 99, None), ("TRAIL", "GTC", None, 2.0)]


def test_bracket_is_sent_as_one_group_with_parent_refs(tmp_path):
    _, _, gw = run(tmp_path, lambda s: s.buy_bracket(size=5, price=100, stopprice=95, limitprice=110),
                   lambda gw, spec: [])
    parent, stop, limit = gw.placed
    assert (parent.transmit, stop.transmit, limit.transmit) == (False, False, True)
    assert stop.parentRef == limit.parentRef == parent.orderRef


def test_oca_cancel_of_one_member_cancels_the_group(tmp_path):
    def make(s):
        stop = s.sell(size=1, exectype=bt.Order.Stop, price=90)
        target = s.sell(size=1, exectype=bt.Order.Limit, price=120, oco=stop)
        return [stop, target]

    def rests(gw, spec):
        return [status(spec, "Submitted", 0, 1)]

    strategy, _, gw = run(tmp_path, make, rests, cancel_at=3)
    stop, target = gw.placed
    assert stop.ocaGroup == target.ocaGroup == stop.orderRef
    assert sorted(gw.cancelled) == sorted([stop.orderRef, target.orderRef])
    assert statuses(strategy).count("Canceled") == 2


def test_a_journaled_decision_the_gateway_knows_is_never_sent_again(tmp_path):
    first, _, gw1 = run(tmp_path, buy_market, answers_with_repeats)
    ref = gw1.placed[0].orderRef
    second, _, gw2 = run(tmp_path, buy_market, answers_with_repeats, known={ref: "Filled"},
                         positions={"SPY": (10, 101.0)})
    assert gw2.placed == []
    assert second.orders[0].info.orderRef == ref
    assert statuses(second) == ["Submitted", "Accepted", "Completed"], "bound to the journaled fill"
    assert second.broker.getposition(second.data).size == 10, "the account's position is not doubled"


def test_a_journaled_decision_the_gateway_never_got_is_sent_once(tmp_path):
    first, _, gw1 = run(tmp_path, buy_market, lambda gw, spec: [])   # the gateway never answers
    second, _, gw2 = run(tmp_path, buy_market, answers_with_repeats)
    assert [p.orderRef for p in gw2.placed] == [gw1.placed[0].orderRef]


def test_late_commission_is_still_charged(tmp_path):
    def late(gw, spec):
        execution, commission = gw.fill(spec, 10, 101.0, commission=2.5)
        return [status(spec, "Submitted", 0, 10), execution, status(spec, "Filled", 10, 0), commission]

    strategy, broker, _ = run(tmp_path, buy_market, late)
    assert broker.getcash() == pytest.approx(100_000 - 1010 - 2.5)
    assert strategy.orders[0].executed.comm == pytest.approx(2.5)


def test_orders_are_held_while_connectivity_is_lost(tmp_path):
    def make(s):
        s.broker.store.events.put(events.Connectivity("lost"))
        s.broker.store.pump()
        order = s.buy(size=10)
        assert s.broker.held, "held, not sent"
        s.broker.store.events.put(events.Connectivity("restored"))
        return [order]

    strategy, _, gw = run(tmp_path, make, answers_with_repeats)
    assert len(gw.placed) == 1
    assert statuses(strategy) == ["Submitted", "Accepted", "Completed"]
