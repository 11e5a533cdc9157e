"""SQLite journal of every order the bot sends and of what became of it.

Contract:

- :meth:`Journal.record_intent` is called, and committed, *before* an order is
  handed to the gateway; the row carries the order's ``orderRef``. After any
  crash (including ``kill -9``) the journal therefore knows every order that
  may have reached the gateway.
- statuses, fills (keyed by IB's ``execId``), commissions and positions are
  recorded as they arrive; repeats are harmless (idempotent writes).
- one writer connection, shared by the IB thread and the backtrader thread
  under a lock; WAL mode, so a killed process loses nothing committed.
- checked when it is opened, before anything is sent: a journal another
  process holds (an exclusive lock on ``<journal>.lock``, released by the
  kernel when its holder dies, even by ``kill -9``), a file that is not a
  readable journal, or one written for another account raises
  :class:`JournalError` (exit code 2) with what to do;
  :func:`journal_path` keeps an account id from the gateway from naming a
  file outside the journal folder;
- readers (``flowbot status``, a test or a script looking at the journal of a
  running session) open it with ``read_only=True``: no lock is taken, nothing
  is written, and the writer's lock never keeps them out (WAL lets readers
  and the one writer work at the same time).
- the writer keeps the set of orderRefs the file holds (read when it is opened,
  extended by :meth:`Journal.record_intent`, the only statement that adds an
  order row): its lock makes it the file's only writer, so :meth:`Journal.order`
  answers None for any other orderRef without a query. The broker asks about
  refs that do not exist yet for every new order (its ``:r<n>`` incarnations
  and the orderRef itself). A reader has no such set: a writer elsewhere adds
  rows.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import sqlite3
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from runner.errors import UserInputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_ref   TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL,
    account     TEXT NOT NULL,
    symbol      TEXT NOT NULL,
    action      TEXT NOT NULL,
    quantity    REAL NOT NULL,
    order_type  TEXT NOT NULL,
    limit_price REAL,
    aux_price   REAL,
    tif         TEXT,
    parent_ref  TEXT,
    oca_group   TEXT,
    order_id    INTEGER,
    perm_id     INTEGER,
    status      TEXT NOT NULL DEFAULT 'Intent',
    filled      REAL NOT NULL DEFAULT 0,
    avg_price   REAL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS statuses (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    order_ref  TEXT NOT NULL,
    at         TEXT NOT NULL,
    status     TEXT NOT NULL,
    filled     REAL,
    remaining  REAL,
    message    TEXT
);
CREATE TABLE IF NOT EXISTS fills (
    exec_id    TEXT PRIMARY KEY,
    order_ref  TEXT NOT NULL,
    time       TEXT NOT NULL,
    symbol     TEXT NOT NULL,
    side       TEXT NOT NULL,
    shares     REAL NOT NULL,
    price      REAL NOT NULL,
    commission REAL
);
CREATE TABLE IF NOT EXISTS meta (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
    symbol     TEXT PRIMARY KEY,
    position   REAL NOT NULL,
    avg_cost   REAL NOT NULL,
    updated_at TEXT NOT NULL
);
"""

#: ``Lost``: journaled as sent, unknown to the gateway after a reconnect (re-sent under a new orderRef or dropped).
FINAL_STATUSES = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive", "Rejected", "Lost"})


@dataclass(frozen=True)
class OrderIntent:
    """An order about to be sent, as the journal keeps it."""

    order_ref: str
    account: str
    symbol: str
    action: str
    quantity: float
    order_type: str
    limit_price: float | None = None
    aux_price: float | None = None
    tif: str | None = None
    parent_ref: str | None = None
    oca_group: str | None = None


class JournalError(UserInputError):
    """The journal cannot be used: held by another process, unreadable, or another account's."""


def journal_path(folder: Path | str, account: str) -> Path:
    """``<folder>/journal-<account>.sqlite``, the account id encoded so that it names one file in ``folder``
    whatever the gateway reports (``DU/../../x`` becomes ``journal-DU%2F..%2F..%2Fx.sqlite``)."""
    name = urllib.parse.quote(account, safe="")
    if not name or name in (".", ".."):
        name = urllib.parse.quote(f"_{account}", safe="")
    if len(name) > 80:   # a file name has at most 255 bytes: a long id keeps its start and a digest of the whole
        name = f"{name[:40]}-{hashlib.sha256(account.encode()).hexdigest()[:16]}"
    path = Path(folder) / f"journal-{name}.sqlite"
    assert path.parent == Path(folder) and os.sep not in path.name
    return path


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


class Journal:
    """One SQLite file (normally one per account)."""

    def __init__(self, path: Path | str, account: str | None = None, read_only: bool = False) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._hold = None
        self._refs: set[str] | None = None   # the writer's orderRefs (see the module docstring); None: a reader
        if read_only:
            self._open_read_only()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._hold = self._take_lock()
        try:
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            problem = self._db.execute("PRAGMA quick_check").fetchone()[0]
            if problem != "ok":
                raise sqlite3.DatabaseError(problem)
        except sqlite3.DatabaseError as exc:
            self._release()
            raise JournalError(f"journal {self.path} is not a readable flowbot journal ({exc}); it is the bot's "
                               f"memory of the orders it sent: restore it from a backup, or move it away to start "
                               f"a new one (the bot then adopts only what the gateway reports today)") from None
        if account:
            self._check_account(account)
        with self._lock:
            self._refs = {row[0] for row in self._db.execute("SELECT order_ref FROM orders")}

    def _open_read_only(self) -> None:
        """A reader: no lock, no schema, no writes (SQLite refuses them); the session may be running."""
        if not self.path.is_file():
            raise JournalError(f"journal {self.path} does not exist (a paper session creates it when it connects)")
        try:
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False,
                                       isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("SELECT count(*) FROM orders").fetchone()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"journal {self.path} is not a readable flowbot journal ({exc})") from None

    def _take_lock(self):
        hold = open(self.path.with_name(self.path.name + ".lock"), "a+")
        try:
            fcntl.flock(hold, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            hold.seek(0)
            holder = hold.read().strip() or "another process"
            hold.close()
            raise JournalError(f"journal {self.path} is in use by {holder}: one flowbot paper session per journal "
                               f"(stop the other session, or give this one its own ib.client_id and ib.journal)") \
                from None
        hold.seek(0)
        hold.truncate()
        hold.write(f"flowbot pid {os.getpid()}")
        hold.flush()
        return hold

    def _release(self) -> None:
        if self._hold is not None:
            self._hold.close()   # closing the file releases the lock
            self._hold = None

    def _check_account(self, account: str) -> None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key='account'").fetchone()
            others = [r[0] for r in self._db.execute(
                "SELECT DISTINCT account FROM orders WHERE account != '' AND account != ?", (account,))]
            if row is None and not others:
                self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('account', ?)", (account,))
                return
        owner = row[0] if row is not None else others[0]
        if owner != account:
            from runner.ib.safety import mask_account

            self.close()
            raise JournalError(f"journal {self.path} belongs to account {mask_account(owner)}, but the gateway "
                               f"is logged into {mask_account(account)}: set ib.journal to that account's journal "
                               f"(or ib.account to the account this journal is for)")

    def close(self) -> None:
        with self._lock:
            self._db.close()
        self._release()

    def _write(self, sql: str, args: tuple) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    # orders -----------------------------------------------------------------
    def record_intent(self, intent: OrderIntent) -> bool:
        """Write an order before it is sent. False if ``order_ref`` is already journaled."""
        now = _now()
        with self._lock:
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO orders (order_ref, created_at, account, symbol, action, quantity, order_type,"
                " limit_price, aux_price, tif, parent_ref, oca_group, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (intent.order_ref, now, intent.account, intent.symbol, intent.action, intent.quantity,
                 intent.order_type, intent.limit_price, intent.aux_price, intent.tif, intent.parent_ref,
                 intent.oca_group, now),
            ).rowcount
            if self._refs is not None:
                self._refs.add(intent.order_ref)   # committed (or already there): the row exists
        return bool(inserted)

    def record_sent(self, order_ref: str, order_id: int) -> None:
        self._write("UPDATE orders SET order_id=?, status=CASE WHEN status='Intent' THEN 'Sent' ELSE status END,"
                    " updated_at=? WHERE order_ref=?", (order_id, _now(), order_ref))

    def record_prices(self, order_ref: str, limit_price: float | None, aux_price: float | None) -> None:
        """A working order's prices changed at the gateway (an exit moved with its entry's fill): IB's modification,
        the same orderId sent again, never a new order. The orders row takes the new prices and the statuses
        history a ``Modified`` row saying what changed (``orders.status`` stays the gateway's)."""
        with self._lock:
            row = self._db.execute("SELECT limit_price, aux_price FROM orders WHERE order_ref=?",
                                   (order_ref,)).fetchone()
            if row is None:
                return
            change = "; ".join(f"{name} {old} -> {new}" for name, old, new in
                               (("limit", row["limit_price"], limit_price), ("stop", row["aux_price"], aux_price))
                               if new is not None and new != old)
            self._db.execute("UPDATE orders SET limit_price=COALESCE(?, limit_price), aux_price=COALESCE(?, aux_price),"
                             " updated_at=? WHERE order_ref=?", (limit_price, aux_price, _now(), order_ref))
            self._db.execute("INSERT INTO statuses (order_ref, at, status, filled, remaining, message)"
                             " VALUES (?,?,'Modified',NULL,NULL,?)",
                             (order_ref, _now(), f"modified (same orderId): {change or 'prices unchanged'}"))

    def record_refused_modification(self, order_ref: str, code: int, message: str) -> None:
        """The gateway refused a modification (the order works on as it was): a ``ModifyRefused`` history row."""
        self._write("INSERT INTO statuses (order_ref, at, status, filled, remaining, message) VALUES (?,?,?,?,?,?)",
                    (order_ref, _now(), "ModifyRefused", None, None, f"error {code}: {message}"))

    def record_status(self, order_ref: str, status: str, filled: float | None = None,
                      remaining: float | None = None, perm_id: int | None = None,
                      avg_price: float | None = None, message: str | None = None) -> None:
        """Record a status report; consecutive identical reports are stored once."""
        with self._lock:
            last = self._db.execute(
                "SELECT status, filled, remaining FROM statuses WHERE order_ref=? ORDER BY id DESC LIMIT 1",
                (order_ref,)).fetchone()
            if last is None or tuple(last) != (status, filled, remaining) or message:
                self._db.execute("INSERT INTO statuses (order_ref, at, status, filled, remaining, message)"
                                 " VALUES (?,?,?,?,?,?)", (order_ref, _now(), status, filled, remaining, message))
            self._db.execute(
                "UPDATE orders SET status=?, filled=COALESCE(?, filled), perm_id=COALESCE(?, perm_id),"
                " avg_price=COALESCE(?, avg_price), updated_at=? WHERE order_ref=?",
                (status, filled, perm_id or None, avg_price or None, _now(), order_ref))

    def order(self, order_ref: str) -> sqlite3.Row | None:
        with self._lock:
            if self._refs is not None and order_ref not in self._refs:
                return None   # never journaled: this writer would have added it
            return self._db.execute("SELECT * FROM orders WHERE order_ref=?", (order_ref,)).fetchone()

    def orders(self) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute("SELECT * FROM orders ORDER BY created_at").fetchall()

    def unfinished_orders(self) -> list[sqlite3.Row]:
        """Orders that may still be working at the gateway (not in a final status)."""
        marks = ",".join("?" * len(FINAL_STATUSES))
        with self._lock:
            return self._db.execute(f"SELECT * FROM orders WHERE status NOT IN ({marks}) ORDER BY created_at",
                                    tuple(FINAL_STATUSES)).fetchall()

    # fills and positions --------------------------------------------------------
    def record_fill(self, exec_id: str, order_ref: str, time: dt.datetime, symbol: str, side: str,
                    shares: float, price: float) -> bool:
        """Record an execution once; False if ``exec_id`` was known."""
        return bool(self._write(
            "INSERT OR IGNORE INTO fills (exec_id, order_ref, time, symbol, side, shares, price)"
            " VALUES (?,?,?,?,?,?,?)", (exec_id, order_ref, time.isoformat(), symbol, side, shares, price)))

    def record_commission(self, exec_id: str, commission: float) -> None:
        self._write("UPDATE fills SET commission=? WHERE exec_id=?", (commission, exec_id))

    def fills(self, order_ref: str | None = None) -> list[sqlite3.Row]:
        with self._lock:
            if order_ref is None:
                return self._db.execute("SELECT * FROM fills ORDER BY time").fetchall()
            return self._db.execute("SELECT * FROM fills WHERE order_ref=? ORDER BY time", (order_ref,)).fetchall()

    def record_position(self, symbol: str, position: float, avg_cost: float) -> None:
        self._write("INSERT INTO positions (symbol, position, avg_cost, updated_at) VALUES (?,?,?,?)"
                    " ON CONFLICT(symbol) DO UPDATE SET position=excluded.position, avg_cost=excluded.avg_cost,"
                    " updated_at=excluded.updated_at", (symbol, position, avg_cost, _now()))

    def positions(self) -> dict[str, float]:
        with self._lock:
            return {r["symbol"]: r["position"] for r in self._db.execute("SELECT * FROM positions")}

    def statuses(self, order_ref: str) -> Iterator[sqlite3.Row]:
        with self._lock:
            return iter(self._db.execute("SELECT * FROM statuses WHERE order_ref=? ORDER BY id",
                                         (order_ref,)).fetchall())
