"""Positions per feed for a symbol that two playbooks trade at different bar sizes.

SPY daily (the December fade) and SPY@1min (the VWAP fade) share one account position at IB; each
playbook must see only what its own orders did, or the VWAP fade takes the fade's overnight short
for its own and flattens it. Whose a position is comes from the journal: the fills of each
playbook's orders (the orderRef names the playbook), summed per feed, when they add up to the
account's position (then a feed's position on any past bar is its own fills up to that bar, which is
what a restart replays). When they do not (a position the journal cannot explain, or fills of a
playbook no feed of the symbol runs), it belongs to the daily feed (intraday playbooks are flat every
night): the daily feed holds the account's position (on a past bar: minus the symbol's fills after
it), the others none. Fills booked afterwards move the feed of their order.
"""
from __future__ import annotations

import collections
import datetime as dt
from typing import Callable

import backtrader as bt

from runner.ib.sessions import NEW_YORK


def split_positions(feeds, positions: dict[str, bt.Position], symbol_of: Callable, journal_fills=(),
                    feed_of_strategy: dict[str, str] | None = None) -> dict[str, bt.Position]:
    """Feed name -> its own position, for every feed whose symbol has another feed; others are absent.

    ``journal_fills``: rows with ``order_ref``, ``symbol``, ``side`` (BOT/SLD), ``shares``, ``time``;
    ``feed_of_strategy``: playbook label -> the name of its instrument feed.
    """
    by_symbol = collections.defaultdict(list)
    for feed in feeds:
        by_symbol[symbol_of(feed)].append(feed)
    journal_fills = list(journal_fills)
    split: dict[str, bt.Position] = {}
    for symbol, shared in by_symbol.items():
        if len(shared) < 2:
            continue
        account = positions[symbol] if symbol in positions else bt.Position()
        names = [f._name for f in shared]
        for feed in shared:
            size = feed_position_at(journal_fills, symbol, names, owner_of(shared)._name, feed._name,
                                    account.size, feed_of_strategy or {})
            split[feed._name] = bt.Position(size, account.price) if size else bt.Position()
    return split


def owner_of(shared: list):
    """The feed an unexplained position belongs to: the daily one (the first if none is daily)."""
    return next((f for f in shared if getattr(f, "daily", False)), shared[0])


def feed_position_at(fills, symbol: str, names: list[str], owner: str, name: str, account_size: float,
                     feed_of_strategy: dict[str, str], until: dt.datetime | None = None) -> float:
    """Signed shares feed ``name`` (one of ``names``, the feeds of ``symbol``) held at ``until`` (naive New
    York time; None: now), from the journal's ``fills``; ``account_size``: the account's position now.

    Fills the journal only inferred (``inferred:``, filled while no run was connected) carry no execution
    time and count as executed before every bar.
    """
    held = {n: 0.0 for n in names}
    after = 0.0                                      # the symbol's fills after ``until``, whoever's
    held_until = {n: 0.0 for n in names}
    explained = True
    for row in fills:
        if row["symbol"] != symbol:
            continue
        signed = float(row["shares"]) if row["side"] == "BOT" else -float(row["shares"])
        later = until is not None and executed_after(row, until)
        if later:
            after += signed
        feed = feed_of_ref(str(row["order_ref"]), feed_of_strategy)
        if feed not in held:
            explained = False
            continue
        held[feed] += signed
        if not later:
            held_until[feed] += signed
    if explained and abs(sum(held.values()) - account_size) < 1e-6:
        size = held_until[name]
    else:
        size = account_size - after if name == owner else 0.0
    return size if abs(size) > 1e-9 else 0.0


def executed_after(row, until: dt.datetime) -> bool:
    """The journal's fill ``row`` executed after ``until`` (naive New York time); inferred fills never."""
    if str(row["exec_id"]).startswith("inferred:"):
        return False
    executed = dt.datetime.fromisoformat(row["time"])
    if executed.tzinfo is not None:
        executed = executed.astimezone(NEW_YORK).replace(tzinfo=None)
    return executed > until


def feed_of_ref(order_ref: str, feed_of_strategy: dict[str, str]) -> str | None:
    """The instrument feed of the playbook an orderRef names (``<prefix>:<playbook>:...``)."""
    parts = order_ref.split(":")
    return feed_of_strategy.get(parts[1]) if len(parts) > 1 else None
