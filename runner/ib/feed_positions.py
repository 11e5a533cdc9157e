"""Positions per feed for a symbol that two playbooks trade at different bar sizes.

SPY daily (the December fade) and SPY@1min (the VWAP fade) share one account position at IB; each
playbook must see only what its own orders did, or the VWAP fade takes the fade's overnight short
for its own and flattens it. The account's position at the start belongs to the daily feed
(intraday playbooks are flat every night); fills booked afterwards move the feed of their order.
"""
from __future__ import annotations

import collections
from typing import Callable

import backtrader as bt


def split_positions(feeds, positions: dict[str, bt.Position], symbol_of: Callable) -> dict[str, bt.Position]:
    """Feed name -> its own position, for every feed whose symbol has another feed; others are absent."""
    by_symbol = collections.defaultdict(list)
    for feed in feeds:
        by_symbol[symbol_of(feed)].append(feed)
    split: dict[str, bt.Position] = {}
    for symbol, shared in by_symbol.items():
        if len(shared) < 2:
            continue
        owner = next((f for f in shared if getattr(f, "daily", False)), shared[0])
        account = positions[symbol] if symbol in positions else bt.Position()
        for feed in shared:
            split[feed._name] = bt.Position(account.size, account.price) if feed is owner else bt.Position()
    return split
