"""Which configured playbook would trigger on a date, and which of its conditions it still waits for.

The answer is the playbook's own: each daily playbook is run (backtrader, the
backtest's broker) over its bars up to the date, and on the date's completed bar
it is asked for its ``conditions`` (``strategies.conditions``), the list its
``decide`` enters on, before it acts. So the thresholds, windows, signal filters,
one trade per window and an open trade are exactly what a backtest or a paper
session would see on that close. The run starts early enough for the playbook's
warm-up (ATR, the previous year's close, the filters' history), not at the start
of the data. An intraday playbook is shown by its calendar (eligible days) and
its filters as of the previous session's close: its trigger is decided on 1-minute bars.
"""
from __future__ import annotations

import datetime as dt
import math

import backtrader as bt
import pandas as pd
from loguru import logger

from runner.config import RunConfig, StrategyConfig
from runner.data.bars import extra_feed_name
from strategies import market_calendar as cal
from strategies.conditions import Condition, waiting_on

#: Months of bars before the date a probe starts with at least: the previous year's last close
#: (year to date) for any date of the year, ATR and the playbooks' look-backs.
PROBE_MONTHS = 14


def probe_start(params, day: dt.date) -> dt.date:
    """The first bar a probe of ``day`` reads: far enough back for every warm-up the playbook has."""
    months = PROBE_MONTHS
    for spec in getattr(params, "filters", []):
        if spec.signal == "volume_spike":
            months = max(months, spec.lookback * (3 if spec.period == "quarter" else 1) + 2)
        elif spec.signal == "rotation":
            months = max(months, spec.sessions // 20 + 2)
    return (pd.Timestamp(day) - pd.DateOffset(months=months)).date().replace(day=1)


def _probe_class(playbook: type, day: dt.date) -> type:
    """``playbook`` recording, on ``day``'s bar before it acts, its conditions and whether it is busy."""

    def observe(self, today: dt.date) -> None:
        if today == day:
            busy = self.trade_plan is not None or self.entry_order is not None
            plan = self.trade_plan
            self.probe = {"busy": busy, "exit_day": None if plan is None else plan.exit_day,
                          "conditions": self.conditions(today)}

    return type(playbook.__name__, (playbook,), {"observe": observe, "probe": None})


def probe(run_cfg: RunConfig, strategy: StrategyConfig, feeds: dict[str, pd.DataFrame], day: dt.date) -> dict | None:
    """Run ``strategy`` on ``feeds`` (its symbol and extra feeds by name) up to ``day``; what it saw on
    that bar (None: it had no decision bar that day, e.g. no bar or still warming up)."""
    from runner.backtest.engine import BacktestBroker, configure_backtest_broker
    from runner.backtest.feeds import make_feed
    from strategies.registry import STRATEGIES

    params = strategy.typed_params()
    first, last = pd.Timestamp(probe_start(params, day)), pd.Timestamp(day) + pd.Timedelta(days=1)
    cerebro = bt.Cerebro(stdstats=False, quicknotify=True)
    cerebro.setbroker(BacktestBroker())
    configure_backtest_broker(cerebro.broker, run_cfg)
    for name, frame in feeds.items():
        local = frame.index.tz_localize(None)
        part = frame[(local >= first) & (local < last)]
        if part.empty:
            return None
        cerebro.adddata(make_feed(part, name), name=name)
    cerebro.addstrategy(_probe_class(STRATEGIES[strategy.name], day), symbol=strategy.symbol,
                        label=strategy.display_name,
                        feed_names={role: extra_feed_name(strategy.symbol, role) for role in strategy.feeds},
                        **params.model_dump())
    logger.disable("strategies")   # the probe's history is not news: its trades are not logged
    try:
        return cerebro.run(runonce=False)[0].probe   # step by step: a short history only warms up
    finally:
        logger.enable("strategies")


def _vwap(strategy: StrategyConfig, run_bars: dict[str, pd.DataFrame], day: dt.date) -> list[Condition]:
    """The intraday fade on ``day``: is it eligible, and its filters as its decisions that session read them,
    as of the previous session's close (strategies.signals.filter_feeds), from the pure functions."""
    from strategies.signals.filters import describe, evaluate, values_on
    from strategies.vwap_close_fade import eligible_reasons

    params = strategy.typed_params()
    reasons = eligible_reasons(day, params) if cal.is_session(day) else ()
    following = next((d for d in cal.sessions_between(day + dt.timedelta(days=1), day + dt.timedelta(days=40))
                      if eligible_reasons(d, params)), None)
    conditions = [Condition("eligible day (intraday playbook; the z-score is decided on 1-minute bars)",
                            bool(reasons), None, ", ".join(reasons) or f"next eligible {following}")]
    before = cal.session_offset(day, -1) if cal.is_session(day) else \
        cal.sessions_between(day - dt.timedelta(days=10), day)[-1]
    for spec in params.filters:
        legs = spec.legs(strategy.symbol)
        values = values_on(spec, [run_bars[extra_feed_name(strategy.symbol, leg)] for leg in legs], before)
        conditions.append(Condition(f"filter {spec.signal} (as of {before})", evaluate(spec, values),
                                    values[0] if len(values) == 1 and math.isfinite(values[0]) else None,
                                    describe(spec, legs, values)))
    return conditions


def load_playbook_bars(run_cfg: RunConfig) -> dict[str, pd.DataFrame]:
    """Bars of every active daily playbook and its extra feeds (by feed name), the whole span of the data."""
    from runner.data.load import align_to, load_source
    from strategies.registry import STRATEGIES

    bars: dict[str, pd.DataFrame] = {}
    where = {"cache_folder": run_cfg.data.cache_folder}
    for strategy in run_cfg.active_strategies():
        if getattr(STRATEGIES[strategy.name], "bar_minutes", 0):
            # intraday: the monitor checks its calendar and its filters' daily legs, not its minutes
            for role, source in strategy.feeds.items():
                bars[extra_feed_name(strategy.symbol, role)] = load_source(source, **where)
            continue
        bars.setdefault(strategy.symbol, load_source(strategy.data, **where))
        for role, source in strategy.feeds.items():
            bars[extra_feed_name(strategy.symbol, role)] = align_to(load_source(source, **where),
                                                                   bars[strategy.symbol].index, source.describe())
    return bars


def _row(strategy: StrategyConfig, status: str, would_trigger: bool, waits: list[str],
         conditions: list[Condition]) -> dict:
    return {"playbook": strategy.display_name, "name": strategy.name, "symbol": strategy.symbol,
            "would_trigger": would_trigger, "status": status, "waits_on": waits,
            "conditions": [c.as_dict() for c in conditions]}


def playbook_row(run_cfg: RunConfig, strategy: StrategyConfig, run_bars: dict[str, pd.DataFrame],
                 day: dt.date) -> dict:
    """Would ``strategy`` trigger on ``day``'s close, and on which conditions it still waits."""
    if strategy.symbol not in run_bars:   # intraday: its calendar
        conditions = _vwap(strategy, run_bars, day) if strategy.name == "vwap_close_fade" else \
            [Condition("not described by the monitor", False, None, strategy.name)]
        waits = waiting_on(conditions)
        status = "eligible today; the trigger is decided on 1-minute bars" if not waits else \
            "waits on: " + "; ".join(waits)
        return _row(strategy, status, False, waits, conditions)
    feeds = {strategy.symbol: run_bars[strategy.symbol],
             **{extra_feed_name(strategy.symbol, role): run_bars[extra_feed_name(strategy.symbol, role)]
                for role in strategy.feeds}}
    seen = probe(run_cfg, strategy, feeds, day)
    if seen is None:
        has_bar = pd.Timestamp(day) in feeds[strategy.symbol].index.tz_localize(None)
        status = f"still warming up on {day} (too little history before it)" if has_bar else \
            f"no {strategy.symbol} bar on {day}"
        return _row(strategy, status, False, ["warm-up" if has_bar else "a bar on the date"], [])
    if seen["conditions"] is None:
        return _row(strategy, "its conditions are not listed (the playbook has no conditions())", False,
                    ["described conditions"], [])
    conditions = seen["conditions"]
    if seen["busy"]:
        exit_day = seen["exit_day"]
        return _row(strategy, f"in a trade (time exit {exit_day}); no new entry until it is flat", False,
                    ["flat"], conditions)
    waits = waiting_on(conditions)
    status = "would trigger on this close" if not waits else "waits on: " + "; ".join(waits)
    return _row(strategy, status, not waits, waits, conditions)


def playbook_rows(run_cfg: RunConfig, run_bars: dict[str, pd.DataFrame], day: dt.date) -> list[dict]:
    """One row per active playbook: would it trigger on ``day``, and on what it still waits."""
    return [playbook_row(run_cfg, strategy, run_bars, day) for strategy in run_cfg.active_strategies()]
