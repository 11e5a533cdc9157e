"""Positions per feed for a symbol that two playbooks trade at different bar sizes.

SPY daily (the December fade) and SPY@1min (the VWAP fade) share one account position at IB; each
playbook must see only what its own orders did, or the VWAP fade takes the fade's overnight short
for its own and flattens it. The account's position at the start belongs to the daily feed
(intraday playbooks are flat every night) unless the journal tells whose it is: the fills of each
playbook's orders (the orderRef names the playbook), summed per feed, when they add up to the account's
position. Fills booked afterwards move the feed of their order.
"""
from __future__ import annotations

import collections
from typing import Callable

import backtrader as bt


def split_positions(feeds, positions: dict[str, bt.Position], symbol_of: Callable, journal_fills=(),
                    feed_of_strategy: dict[str, str] | None = None) -> dict[str, bt.Position]:
    """Feed name -> its own position, for every feed whose symbol has another feed; others are absent.

    ``journal_fills``: rows with ``order_ref``, ``symbol``, ``side`` (BOT/SLD), ``shares``;
    ``feed_of_strategy``: playbook label -> the name of its instrument feed.
    """
    by_symbol = collections.defaultdict(list)
    for feed in feeds:
        by_symbol[symbol_of(feed)].append(feed)
    split: dict[str, bt.Position] = {}
    for symbol, shared in by_symbol.items():
        if len(shared) < 2:
            continue
        owner = next((f for f in shared if getattr(f, "daily", False)), shared[0])
        account = positions[symbol] if symbol in positions else bt.Position()
        held = _held_by_feed(journal_fills, symbol, [f._name for f in shared], feed_of_strategy or {})
        if held is not None and abs(sum(held.values()) - account.size) < 1e-6:
            for feed in shared:
                size = held.get(feed._name, 0.0)
                split[feed._name] = bt.Position(size, account.price) if size else bt.Position()
            continue
        for feed in shared:
            split[feed._name] = bt.Position(account.size, account.price) if feed is owner else bt.Position()
    return split


def _held_by_feed(fills, symbol: str, names: list[str], feed_of_strategy: dict[str, str]) -> dict[str, float] | None:
    """Signed shares per feed from the journal's fills of ``symbol``; None if a fill belongs to no such feed."""
    held = {name: 0.0 for name in names}
    for row in fills:
        if row["symbol"] != symbol:
            continue
        parts = str(row["order_ref"]).split(":")
        feed = feed_of_strategy.get(parts[1]) if len(parts) > 1 else None
        if feed not in held:
            return None
        held[feed] += float(row["shares"]) if row["side"] == "BOT" else -float(row["shares"])
    return held
