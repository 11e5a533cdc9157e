"""Feeds for intraday playbooks: every bar (plain), or only the bars that matter (fast).

The fast path is an engine choice, not a strategy one: the strategy runs the
same code on both. For ``vwap_close_fade`` the fast feed carries the session
VWAP lines precomputed with numpy and only the bars on which the playbook can
act (see :mod:`strategies.vwap_fade_fast`), so backtrader's event loop sees a
few percent of the minutes, with identical fills.
"""
from __future__ import annotations

from collections import defaultdict

import backtrader as bt
import pandas as pd
from loguru import logger

from runner.config import RunConfig
from runner.data.bars import is_daily
from runner.backtest.feeds import BulkPreloadFeed, make_feed
from strategies.registry import STRATEGIES
from strategies.vwap_close_fade import LINE_NAMES
from strategies.vwap_fade_fast import SessionGrid, bars_to_feed, indicator_lines


class SessionWindowFeed(BulkPreloadFeed):
    """Selected 1-minute bars with the precomputed lines ``vwap``, ``sigma``, ``ref_price``, ``slot_ratio``."""

    lines = LINE_NAMES

    def __init__(self, bars: pd.DataFrame, extra_lines: dict, **kwargs):
        super().__init__(bars, **kwargs)
        for name in LINE_NAMES:
            self._columns[name] = extra_lines[name]


def make_fast_feed(bars: pd.DataFrame, name: str, params: list, slippage: float | None = None) -> SessionWindowFeed:
    """The fast feed of one instrument for the ``vwap_close_fade`` playbooks with ``params``; ``slippage``
    (the broker's, a fraction): also leave out a session's bars after its trade has certainly left."""
    grid = SessionGrid(bars.index)
    lines = indicator_lines(bars, slot_volume=any(p.volume_ratio_min is not None for p in params), grid=grid)
    keep = bars_to_feed(bars, lines, params, grid=grid, slippage=slippage)
    logger.debug(f"{name}: the fast path feeds {int(keep.sum())} of {len(bars)} bars")
    selected = {line: values[keep] for line, values in lines.items()}
    return SessionWindowFeed(bars[keep], selected, name=name, timeframe=bt.TimeFrame.Minutes, compression=1)


def make_run_feeds(cfg: RunConfig, bars: dict[str, pd.DataFrame], fast: bool = True) -> dict[str, bt.feed.DataBase]:
    """Feed name -> feed; intraday instruments whose playbooks all support it get the fast feed."""
    users: dict[str, list] = defaultdict(list)
    for strategy in cfg.active_strategies():
        users[strategy.symbol].append(strategy)
    feeds = {}
    for name, frame in bars.items():
        playbooks = users.get(name, [])
        fast_ok = (fast and playbooks and not is_daily(frame)
                   and all(getattr(STRATEGIES[s.name], "fast_feed", False) for s in playbooks))
        if fast_ok:
            feeds[name] = make_fast_feed(frame, name, [s.typed_params() for s in playbooks],
                                         slippage=cfg.broker.slippage_pct / 100.0)
        else:
            feeds[name] = make_feed(frame, name)
    return feeds
