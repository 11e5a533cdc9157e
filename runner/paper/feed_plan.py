"""Which live feeds a paper session needs: one per (feed, bar size), all from one IB connection.

Each playbook decides on its own bar size (``bar_minutes`` on the playbook class:
1-minute bars for the VWAP fade, daily bars for the others) unless ``ib.bar_size``
forces one for all. A symbol traded at two bar sizes (SPY daily for the December
fade, SPY 1-minute for the VWAP fade) gets two feeds from one 5-second stream; the
intraday one is named ``SPY@1min`` so each playbook finds its own bars by name.
The broker keys positions on the IB symbol, so both feeds share the account's SPY.
"""
from __future__ import annotations

from dataclasses import dataclass

from runner.config import RunConfig
from runner.data.bars import extra_feed_name
from runner.errors import ConfigError
from runner.ib.bars import BarSize
from strategies.registry import STRATEGIES


@dataclass(frozen=True)
class FeedPlan:
    name: str            # the backtrader feed name the playbook looks up
    ib_symbol: str       # what IB streams
    size: BarSize
    backfill_bars: int


def playbook_bar_size(cfg: RunConfig, playbook: str) -> BarSize:
    if cfg.ib.bar_size is not None:
        return BarSize.parse(cfg.ib.bar_size)
    minutes = getattr(STRATEGIES[playbook], "bar_minutes", 0)
    return BarSize(int(minutes or 0))


def plan_feeds(cfg: RunConfig) -> tuple[RunConfig, dict[str, FeedPlan]]:
    """The config the Cerebro runs (instrument feeds renamed where a symbol has two bar sizes) and the feeds."""
    strategies = cfg.active_strategies()
    sizes_of: dict[str, set[BarSize]] = {}
    for strategy in strategies:
        sizes_of.setdefault(strategy.symbol, set()).add(playbook_bar_size(cfg, strategy.name))
    run_cfg = cfg.model_copy(deep=True)
    overrides = dict(cfg.ib.feed_symbols)
    plans: dict[str, FeedPlan] = {}
    active = {s.display_name for s in strategies}
    for strategy in run_cfg.strategies:
        if strategy.display_name not in active:
            continue
        size = playbook_bar_size(cfg, strategy.name)
        symbol = strategy.symbol
        name = symbol
        if len(sizes_of[symbol]) > 1 and not size.daily:
            name = f"{symbol}@{size}"
            overrides.setdefault(name, overrides.get(symbol, symbol))
            for role in strategy.feeds:
                old = extra_feed_name(symbol, role)
                if old in overrides:
                    overrides.setdefault(extra_feed_name(name, role), overrides[old])
            strategy.symbol = name
        _add(plans, FeedPlan(name, overrides.get(name, name), size, cfg.ib.backfill_for(size)))
        for role in strategy.feeds:
            extra = extra_feed_name(name, role)
            if extra not in overrides:
                raise ConfigError(f"ib.feed_symbols: playbook {strategy.display_name} uses a {role!r} feed; "
                                  f"name the IB symbol to trade it with, e.g. ib.feed_symbols: "
                                  f"{{{extra_feed_name(symbol, role)}: IEF}}")
            # An intraday playbook's extra feeds are its filters' daily legs (strategies.signals.filter_feeds).
            extra_size = size if size.daily else BarSize(0)
            _add(plans, FeedPlan(extra, overrides[extra], extra_size, cfg.ib.backfill_for(extra_size)))
    run_cfg.ib.feed_symbols = overrides
    return run_cfg, plans


def _add(plans: dict[str, FeedPlan], plan: FeedPlan) -> None:
    known = plans.get(plan.name)
    if known is not None and known.size != plan.size:   # pragma: no cover - renaming above prevents it
        raise ConfigError(f"feed {plan.name} is wanted at {known.size} and at {plan.size}")
    plans.setdefault(plan.name, plan)
