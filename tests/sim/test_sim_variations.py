"""The simulator's opt-in variations of IB Gateway's message stream (runner/sim/variations.py), both libraries.

Each is a legal order or content of messages a real gateway sends; off by default, seeded when asked for.
Bars as in test_sim_strict_gateway (the clock starts at the 2024-03-05 open, before any bar of it).
"""
from __future__ import annotations

import pytest

from runner.sim import SimulatedGateway
from runner.sim.variations import Variations

from sim_data import wait_for
from test_sim_strict_gateway import BARS, wire_statuses


@pytest.fixture
def setup(ib_lib, make_gateway, connect):
    def build(variations, **options):
        gw = make_gateway({"SPY": BARS}, warmup_sessions=1, variations=variations, **options)
        ib = connect(ib_lib, gw.port, 1)
        contract = ib_lib.Stock("SPY", "SMART", "USD")
        ib.qualifyContracts(contract)
        return gw, ib, contract
    return build


def wire_order(ib) -> list[str]:
    """The kinds of order messages as they arrive: status:<state>, execution, commission, error:<code>."""
    seen: list[str] = []
    w = ib.wrapper
    for name, label in (("orderStatus", lambda a: f"status:{a[1]}"), ("execDetails", lambda a: "execution"),
                        ("commissionReport", lambda a: "commission"), ("error", lambda a: f"error:{a[1]}"),
                        ("openOrder", lambda a: "open")):
        original = getattr(w, name)

        def tapped(*args, _original=original, _label=label, **kw):
            seen.append(_label(args))
            return _original(*args, **kw)
        setattr(w, name, tapped)
    return seen


def test_unknown_variations_are_refused_by_name():
    with pytest.raises(ValueError, match="unknown gateway variations"):
        Variations(["no_such_thing"])


def test_off_by_default_and_the_same_seed_makes_the_same_choices():
    assert not SimulatedGateway({"SPY": BARS}).variations
    first, second = Variations({"status_first": 0.5}, seed=3), Variations({"status_first": 0.5}, seed=3)
    assert [first.happens("status_first") for _ in range(40)] == [second.happens("status_first") for _ in range(40)]
    assert 0 < first.counts["status_first"] < 40


def test_status_first_sends_the_fill_status_before_its_execution(ib_lib, setup):
    gw, ib, contract = setup(["status_first"])
    seen = wire_order(ib)
    trade = ib.placeOrder(contract, ib_lib.MarketOrder("BUY", 10))
    gw.advance_to("2024-03-05 12:00")
    assert wait_for(ib, lambda: "commission" in seen and trade.orderStatus.status == "Filled")
    assert seen.index("status:Filled") < seen.index("execution") < seen.index("commission")
    assert len(trade.fills) == 1


def test_quiet_live_sends_a_market_order_no_status_until_it_fills(ib_lib, setup):
    gw, ib, contract = setup(["quiet_live"])
    seen = wire_order(ib)
    trade = ib.placeOrder(contract, ib_lib.MarketOrder("BUY", 10))
    assert wait_for(ib, lambda: "open" in seen)
    gw.advance_to("2024-03-05 12:00")
    assert wait_for(ib, lambda: "commission" in seen and trade.orderStatus.status == "Filled")
    assert [s for s in seen if s.startswith("status:")] == ["status:Filled", "status:Filled"]
    assert seen.index("open") < seen.index("execution")


def test_pending_cancel_then_202_before_the_cancelled_status(ib_lib, setup):
    gw, ib, contract = setup(["pending_cancel"])
    seen = wire_order(ib)
    trade = ib.placeOrder(contract, ib_lib.LimitOrder("BUY", 10, 50.0))
    assert wait_for(ib, lambda: "status:Submitted" in seen)
    ib.cancelOrder(trade.order)
    assert wait_for(ib, lambda: "status:Cancelled" in seen)
    after = seen[seen.index("status:PendingCancel"):]
    assert after.index("error:202") < after.index("status:Cancelled")
    assert trade.orderStatus.status == "Cancelled" and trade.isDone()


def test_api_cancelled_ends_a_clients_cancel(ib_lib, setup):
    gw, ib, contract = setup(["api_cancelled"])
    trade = ib.placeOrder(contract, ib_lib.LimitOrder("BUY", 10, 50.0))
    assert wait_for(ib, lambda: trade.orderStatus.status == "Submitted")
    ib.cancelOrder(trade.order)
    assert wait_for(ib, lambda: trade.orderStatus.status == "ApiCancelled")
    assert trade.isDone()
    assert [o.status for o in gw.orders()] == ["ApiCancelled"]


def test_warn_399_between_presubmitted_and_submitted_outside_the_session_and_for_moc(ib_lib, setup):
    gw, ib, contract = setup(["warn_399"], start="2024-03-05 08:00")
    seen = wire_order(ib)
    early = ib.placeOrder(contract, ib_lib.LimitOrder("BUY", 10, 50.0))
    assert wait_for(ib, lambda: seen.count("status:Submitted") >= 1)
    assert seen.index("status:PreSubmitted") < seen.index("error:399") < seen.index("status:Submitted")
    gw.advance_to("2024-03-05 11:00")
    seen.clear()
    moc = ib.placeOrder(contract, ib_lib.Order(action="SELL", totalQuantity=5, orderType="MOC"))
    assert wait_for(ib, lambda: "status:Submitted" in seen)
    assert seen.count("error:399") == 1
    day = ib.placeOrder(contract, ib_lib.LimitOrder("BUY", 10, 50.0))
    assert wait_for(ib, lambda: seen.count("status:Submitted") >= 3)
    assert seen.count("error:399") == 1, "a day order inside the session gets none"
    assert all(t.isActive() for t in (early, moc, day))
    assert gw.variation_counts()["warn_399"] == 2


def test_farm_notices_at_connect_and_last_fill_zero_in_the_repeat(ib_lib, setup):
    gw, ib, contract = setup(["farm_notices", "last_fill_zero"])
    assert gw.variation_counts()["farm_notices"] == 1
    prices = []
    original = ib.wrapper.orderStatus

    def tapped(orderId, status, filled, remaining, avgFillPrice, permId, parentId, lastFillPrice, *rest):
        prices.append((status, lastFillPrice))
        return original(orderId, status, filled, remaining, avgFillPrice, permId, parentId, lastFillPrice, *rest)
    ib.wrapper.orderStatus = tapped
    trade = ib.placeOrder(contract, ib_lib.MarketOrder("BUY", 10))
    gw.advance_to("2024-03-05 12:00")
    assert wait_for(ib, lambda: trade.orderStatus.status == "Filled" and len(trade.fills) == 1)
    assert [p for s, p in prices if s == "Filled"] == [102.0, 0.0]


def test_gateway_sim_vary_takes_names_probabilities_and_all_and_refuses_the_rest_in_one_message():
    from runner.errors import UserInputError
    from runner.sim.cli_entry import parse_variations
    from runner.sim.variations import NAMES

    assert parse_variations(["status_first", "warn_399=0.25"]) == {"status_first": 1.0, "warn_399": 0.25}
    assert parse_variations(["all"]) == {name: 1.0 for name in NAMES}
    with pytest.raises(UserInputError, match="unknown variation 'sometimes'"):
        parse_variations(["sometimes"])
    with pytest.raises(UserInputError, match="P must be a number from 0 to 1"):
        parse_variations(["status_first=2"])
