"""Which configured playbook would trigger on a date, and which of its conditions it still waits for.

The conditions are the playbooks' own (the same thresholds from the run config,
the same calendar windows, the same signal functions the filters use), checked
on the close of the date from bar tables: a monitor, not a backtest, so stops,
sizing and one-trade-per-window are not simulated.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from runner.config import RunConfig, StrategyConfig
from runner.data.bars import extra_feed_name
from strategies import market_calendar as cal
from strategies.december_fade import december_window
from strategies.quarter_end_fade import quarter_window
from strategies.signals.filters import describe, evaluate, values_on
from strategies.signals.periods import period_to_date, value_on


def _close_on(bars: pd.DataFrame, day: dt.date) -> float | None:
    value = value_on(bars["close"], day)
    return float(value) if np.isfinite(value) else None


def _condition(name: str, value: float | None, threshold: str, ok: bool, required: bool = True) -> dict:
    """``required``: False for a condition that is one of several alternatives (shown, not waited on)."""
    return {"condition": name, "value": None if value is None else round(float(value), 4),
            "threshold": threshold, "ok": bool(ok), "required": required}


def _pressure(params, bars, bonds, day: dt.date, period: str, min_drift: float, min_return: float) -> dict:
    equity_return = value_on(period_to_date(bars, period), day)
    if bonds is not None:
        bond_return = value_on(period_to_date(bonds, period), day)
        t = params.target_equity_weight
        weight = t * (1 + equity_return) / (t * (1 + equity_return) + (1 - t) * (1 + bond_return))
        drift = (weight - t) * 100.0
        return _condition(f"{period}-to-date drift of {t:.0%}/{1 - t:.0%}, pts", drift, f">= {min_drift:g}",
                          np.isfinite(drift) and drift >= min_drift)
    pct = equity_return * 100.0
    return _condition(f"{period}-to-date equity return, %", pct, f">= {min_return:g}",
                      np.isfinite(pct) and pct >= min_return)


def _filters(params, feeds: dict[str, pd.DataFrame], instrument: str, day: dt.date) -> list[dict]:
    out = []
    for spec in getattr(params, "filters", []):
        legs = spec.legs(instrument)
        values = values_on(spec, [feeds[leg] for leg in legs], day)
        out.append(_condition(f"filter {spec.signal}", values[0] if len(values) == 1 else None,
                              describe(spec, legs, values), evaluate(spec, values)))
    return out


def _fade(strategy: StrategyConfig, params, feeds, day: dt.date, window, period: str, min_drift, min_return):
    opex, first, last, _exit = window
    bars = feeds[strategy.symbol]
    conditions = [_condition("window", None, f"{first} to {last} (OPEX {opex} + 2 sessions)", first <= day <= last)]
    opex_close = _close_on(bars, opex) if day >= opex else None
    rally = None if opex_close is None else (_close_on(bars, day) / opex_close - 1) * 100
    conditions.append(_condition(f"rally over the {opex:%b} OPEX close, %", rally, f">= {params.rally_pct:g}",
                                 rally is not None and rally >= params.rally_pct))
    conditions.append(_pressure(params, bars, feeds.get("bonds"), day, period, min_drift, min_return))
    conditions += _filters(params, feeds, strategy.symbol, day)
    return conditions


def _snapback(strategy: StrategyConfig, params, feeds, day: dt.date):
    bars = feeds[strategy.symbol]
    last = cal.nth_session_of_month(day.year, 12, -1)
    decision = cal.session_offset(last, -1) if params.entry == "last_close" else last
    closes = bars["close"][bars.index.tz_localize(None) <= pd.Timestamp(day)]
    five = (closes.iloc[-1] / closes.iloc[-6] - 1) * 100 if len(closes) > 5 else None
    opex = cal.december_opex_session(day.year)
    opex_close = _close_on(bars, opex) if day >= opex else None
    since = None if opex_close is None else (closes.iloc[-1] / opex_close - 1) * 100
    sell_off = [_condition("5-session return, %", five, f"<= {params.five_day_return_pct:g}",
                           five is not None and five <= params.five_day_return_pct, required=False),
                _condition("return since the Dec OPEX close, %", since, f"<= {params.opex_return_pct:g}",
                           since is not None and since <= params.opex_return_pct, required=False)]
    any_sell_off = _condition("a sell-off (either above)", None, "any", any(c["ok"] for c in sell_off))
    return [_condition("decision day", None, str(decision), day == decision), *sell_off, any_sell_off,
            *_filters(params, feeds, strategy.symbol, day)]


def _vwap(params, day: dt.date):
    from strategies.vwap_close_fade import eligible_reasons

    reasons = eligible_reasons(day, params) if cal.is_session(day) else ()
    following = next((d for d in cal.sessions_between(day + dt.timedelta(days=1), day + dt.timedelta(days=40))
                      if eligible_reasons(d, params)), None)
    return [_condition("eligible day (intraday playbook; the z-score is decided on 1-minute bars)", None,
                       ", ".join(reasons) or f"next eligible {following}", bool(reasons))]


def playbook_conditions(strategy: StrategyConfig, feeds: dict[str, pd.DataFrame], day: dt.date) -> list[dict]:
    """The conditions of one configured playbook on ``day``, each with its value, threshold and verdict."""
    params = strategy.typed_params()
    if strategy.name == "december_fade":
        return _fade(strategy, params, feeds, day, december_window(day.year), "year", params.drift_min_pct,
                     params.ytd_min_pct)
    if strategy.name == "quarter_end_fade":
        month = 3 * ((day.month - 1) // 3 + 1)
        conditions = _fade(strategy, params, feeds, day, quarter_window(day.year, month), "quarter",
                           params.drift_min_pct, params.qtd_min_pct)
        traded = month in params.quarters
        return [_condition("quarter traded", None, f"quarters {params.quarters}", traded), *conditions]
    if strategy.name == "january_snapback":
        return _snapback(strategy, params, feeds, day)
    if strategy.name == "vwap_close_fade":
        return _vwap(params, day)
    return [_condition("not described by the monitor", None, strategy.name, False)]


def load_playbook_bars(run_cfg: RunConfig) -> dict[str, pd.DataFrame]:
    """Bars of every active daily playbook and its extra feeds (by feed name), the whole span of the data."""
    from runner.data.load import align_to, load_source
    from strategies.registry import STRATEGIES

    bars: dict[str, pd.DataFrame] = {}
    where = {"cache_folder": run_cfg.data.cache_folder}
    for strategy in run_cfg.active_strategies():
        if getattr(STRATEGIES[strategy.name], "bar_minutes", 0):
            continue   # intraday: the monitor only checks its calendar
        bars.setdefault(strategy.symbol, load_source(strategy.data, **where))
        for role, source in strategy.feeds.items():
            bars[extra_feed_name(strategy.symbol, role)] = align_to(load_source(source, **where),
                                                                   bars[strategy.symbol].index, source.describe())
    return bars


def playbook_rows(run_cfg: RunConfig, run_bars: dict[str, pd.DataFrame], day: dt.date) -> list[dict]:
    """One row per active playbook: would it trigger on ``day``, and on what it still waits."""
    rows = []
    for strategy in run_cfg.active_strategies():
        feeds = {} if strategy.symbol not in run_bars else {
            strategy.symbol: run_bars[strategy.symbol],
            **{role: run_bars[extra_feed_name(strategy.symbol, role)] for role in strategy.feeds}}
        conditions = playbook_conditions(strategy, feeds, day)
        waits = [c["condition"] for c in conditions if c["required"] and not c["ok"]]
        intraday = strategy.symbol not in run_bars
        status = ("eligible today; the trigger is decided on 1-minute bars" if intraday and not waits
                  else "would trigger on this close" if not waits else "waits on: " + "; ".join(waits))
        rows.append({"playbook": strategy.display_name, "name": strategy.name, "symbol": strategy.symbol,
                     "would_trigger": not waits and not intraday, "status": status, "waits_on": waits,
                     "conditions": conditions})
    return rows
