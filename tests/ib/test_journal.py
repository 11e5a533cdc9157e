"""The SQLite order journal: intents before sending, idempotent records."""
import datetime as dt
from pathlib import Path

import pytest

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


# -- checked at start, before anything is sent (issue 12) ---------------------------------------------
def test_a_journal_held_by_another_process_is_refused_with_exit_code_2(tmp_path):
    import subprocess
    import sys

    from runner.ib.journal import JournalError

    path = tmp_path / "journal.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from runner.ib.journal import Journal; "
                               f"j = Journal({str(path)!r}); print('held', flush=True); sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=Path(__file__).parents[2])
    try:
        assert holder.stdout.readline().strip() == b"held"
        with pytest.raises(JournalError, match=r"is in use by flowbot pid \d+") as caught:
            Journal(path)
        assert caught.value.exit_code == 2
    finally:
        holder.kill()
        holder.wait(30)
    Journal(path).close()   # the kernel released the lock of the killed holder


def test_readers_open_the_journal_of_a_running_session_without_its_lock(tmp_path):
    """``flowbot status`` and tooling read the journal while the session (another process) holds and writes it."""
    import sqlite3
    import subprocess
    import sys

    from runner.ib.journal import JournalError

    path = tmp_path / "journal.sqlite"
    with pytest.raises(JournalError, match="does not exist"):
        Journal(path, read_only=True)
    holder = subprocess.Popen([sys.executable, "-c", "import sys; from runner.ib.journal import Journal, OrderIntent; "
                               f"j = Journal({str(path)!r}); "
                               "j.record_intent(OrderIntent('fb:1', 'DU1', 'SPY', 'BUY', 10, 'MKT')); "
                               "print('held', flush=True); sys.stdin.readline(); "
                               "j.record_status('fb:1', 'Filled', 10, 0); print('written', flush=True); "
                               "sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=Path(__file__).parents[2])
    try:
        assert holder.stdout.readline().strip() == b"held"
        with pytest.raises(JournalError, match="is in use"):
            Journal(path)   # a second writer is still refused
        reader = Journal(path, read_only=True)
        assert [(r["order_ref"], r["status"]) for r in reader.orders()] == [("fb:1", "Intent")]
        holder.stdin.write(b"go\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == b"written"
        assert reader.order("fb:1")["status"] == "Filled", "the reader sees what the writer commits"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.record_status("fb:1", "Cancelled")
        reader.close()
    finally:
        holder.kill()
        holder.wait(30)
    assert Journal(path, read_only=True).order("fb:1")["status"] == "Filled"


def test_a_corrupt_journal_is_refused_naming_the_file(tmp_path):
    from runner.ib.journal import JournalError

    path = tmp_path / "journal.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(JournalError, match="is not a readable flowbot journal"):
        Journal(path)
    assert path.read_bytes().startswith(b"this is not sqlite"), "left as it was"
    Journal(tmp_path / "other.sqlite").close()


def test_a_journal_of_another_account_is_refused(tmp_path):
    from runner.ib.journal import JournalError

    path = tmp_path / "journal.sqlite"
    Journal(path, account="DU1111111").close()
    Journal(path, account="DU1111111").close()
    with pytest.raises(JournalError, match=r"belongs to account DU\*+111, but the gateway is logged into DU\*+222"):
        Journal(path, account="DU2222222")


def test_an_account_id_never_escapes_the_journal_folder(tmp_path):
    from runner.ib.journal import journal_path

    for account in ("DU/../../x", "..", "/etc/passwd", "DU1234567", "a\\b", "."):
        path = journal_path(tmp_path / "logs", account)
        assert path.parent == tmp_path / "logs" and path.resolve().parent == (tmp_path / "logs").resolve(), account
        assert path.name.startswith("journal-") and path.name.endswith(".sqlite")
    assert journal_path(tmp_path, "DU1234567").name == "journal-DU1234567.sqlite"


def test_a_long_account_id_names_a_file_the_system_can_create(tmp_path):
    from runner.ib.journal import Journal, journal_path

    first, second = "DU" + "7" * 300, "DU" + "7" * 299 + "8"
    paths = {journal_path(tmp_path, first), journal_path(tmp_path, second)}
    assert len(paths) == 2 and all(len(p.name) < 100 and p.parent == tmp_path for p in paths)
    Journal(journal_path(tmp_path, first), account=first).close()   # was OSError: File name too long
    assert journal_path(tmp_path, first).exists()


# -- the writer's orderRefs: order() for a ref never journaled answers without a query ----------------------
def test_order_finds_refs_journaled_before_opening_and_since(tmp_path):
    """The writer answers None for an orderRef it never journaled without asking SQLite; every ref the file
    held when it was opened, and every one journaled since, is still found (the broker's incarnation chain
    and its "already journaled" checks read these)."""
    path = tmp_path / "j.sqlite"
    first = Journal(path)
    first.record_intent(intent("fb:old"))
    first.record_sent("fb:old", 3)
    first.close()
    j = Journal(path)
    statements = []
    j._db.set_trace_callback(statements.append)
    assert j.order("fb:new") is None and j.order("fb:old:r1") is None
    assert statements == [], "a ref never journaled is answered without a query"
    assert j.order("fb:old")["status"] == "Sent", "a ref journaled by an earlier process is found"
    assert j.record_intent(intent("fb:new")) is True
    assert j.order("fb:new")["status"] == "Intent", "a ref journaled since opening is found"
    assert j.record_intent(intent("fb:old")) is False
    j.close()


def test_a_reader_finds_orders_the_writer_journals_after_it_opened(tmp_path):
    """A reader keeps no set of refs: the writer (another process, here another connection) adds rows."""
    path = tmp_path / "j.sqlite"
    writer = Journal(path)
    writer.record_intent(intent("fb:1"))
    reader = Journal(path, read_only=True)
    assert reader.order("fb:2") is None
    writer.record_intent(intent("fb:2"))
    assert reader.order("fb:2")["status"] == "Intent"
    reader.close()
    writer.close()
