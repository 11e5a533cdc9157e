"""The SQLite order journal: intents before sending, idempotent records."""
import datetime as dt

from runner.ib.journal import Journal, OrderIntent


def intent(ref="fb:1", **kw):
    base = dict(order_ref=ref, account="DU1234567", symbol="SPY", action="BUY", quantity=10, order_type="MKT")
    base.update(kw)
    return OrderIntent(**base)


def test_intent_is_written_once_and_survives_reopen(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    assert j.record_intent(intent()) is True
    assert j.record_intent(intent()) is False
    j.record_sent("fb:1", 7)
    j.close()
    row = Journal(tmp_path / "j.sqlite").order("fb:1")
    assert (row["order_id"], row["status"], row["quantity"]) == (7, "Sent", 10)


def test_status_fill_and_commission_are_idempotent(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    j.record_intent(intent())
    for _ in range(2):
        j.record_status("fb:1", "Submitted", 0, 10, perm_id=99)
    t = dt.datetime(2024, 3, 4, 9, 30, tzinfo=dt.timezone.utc)
    assert j.record_fill("e1", "fb:1", t, "SPY", "BOT", 10, 100.0) is True
    assert j.record_fill("e1", "fb:1", t, "SPY", "BOT", 10, 100.0) is False
    j.record_commission("e1", 1.0)
    j.record_status("fb:1", "Filled", 10, 0, avg_price=100.0)
    assert [s["status"] for s in j.statuses("fb:1")] == ["Submitted", "Filled"]
    assert [(f["shares"], f["commission"]) for f in j.fills("fb:1")] == [(10, 1.0)]
    assert j.order("fb:1")["perm_id"] == 99
    assert j.unfinished_orders() == []


def test_unfinished_orders_lists_what_may_still_work(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    j.record_intent(intent("a"))
    j.record_intent(intent("b"))
    j.record_status("b", "Cancelled")
    assert [r["order_ref"] for r in j.unfinished_orders()] == ["a"]


def test_positions_upsert(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    j.record_position("SPY", 10, 100.0)
    j.record_position("SPY", -5, 101.0)
    assert j.positions() == {"SPY": -5}
