"""Performance metrics of a run, a per-year table, and the hold-the-same-window baseline.

Every playbook is compared with simply holding its instrument long over the
same window each year (close before the window's first session to the close of
its last), and with taking the playbook's direction unconditionally over that
window: a seasonal rule must beat both to be worth anything.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from runner.config import RunConfig
from strategies.registry import STRATEGIES

TRADING_DAYS = 252


def performance(equity: pd.DataFrame, trades: pd.DataFrame, periods_per_year: float = TRADING_DAYS) -> dict:
    """Headline metrics from ``equity`` (time, value, cash) and ``trades`` (trades.csv rows)."""
    values = equity["value"].to_numpy(dtype="float64")
    if len(values) < 2:
        return {"bars": int(len(values)), "trades": int(len(trades))}
    returns = np.diff(values) / values[:-1]
    years = len(returns) / periods_per_year
    total = values[-1] / values[0] - 1.0
    peak = np.maximum.accumulate(values)
    drawdown = values / peak - 1.0
    downside = returns[returns < 0]
    std = returns.std(ddof=1) if len(returns) > 1 else 0.0
    down_std = math.sqrt((downside ** 2).sum() / len(returns)) if len(returns) else 0.0
    pnl = trades["pnl"].to_numpy(dtype="float64") if len(trades) else np.array([])
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    in_market = (np.abs(values - equity["cash"].to_numpy(dtype="float64")) > 1e-6)
    return {
        "start": str(equity["time"].iloc[0]), "end": str(equity["time"].iloc[-1]),
        "start_value": round(float(values[0]), 2), "end_value": round(float(values[-1]), 2),
        "total_return_pct": round(total * 100.0, 4),
        "cagr_pct": round(((1.0 + total) ** (1.0 / years) - 1.0) * 100.0, 4) if years > 0 and total > -1 else None,
        "sharpe": round(float(returns.mean() / std * math.sqrt(periods_per_year)), 4) if std > 0 else None,
        "sortino": round(float(returns.mean() / down_std * math.sqrt(periods_per_year)), 4) if down_std > 0 else None,
        "max_drawdown_pct": round(float(drawdown.min()) * 100.0, 4),
        "trades": int(len(pnl)),
        "win_rate_pct": round(len(wins) / len(pnl) * 100.0, 2) if len(pnl) else None,
        "profit_factor": round(float(wins.sum() / -losses.sum()), 4) if len(losses) and losses.sum() < 0 else None,
        "exposure_pct": round(float(in_market.mean()) * 100.0, 2),
        "net_pnl": round(float(pnl.sum()), 2),
    }


def per_year(cfg: RunConfig, equity: pd.DataFrame, trades: pd.DataFrame, bars: dict[str, pd.DataFrame]) -> list[dict]:
    """One row per calendar year: the portfolio's return, and per playbook its P&L and baselines."""
    times = pd.to_datetime(equity["time"], utc=True).dt.tz_convert("America/New_York")
    values = pd.Series(equity["value"].to_numpy(dtype="float64"), index=times)
    year_end = values.groupby(values.index.year).last()
    previous = year_end.shift(1)
    previous.iloc[0] = values.iloc[0]
    rows = []
    trade_years = pd.to_datetime(trades["exit_time"], utc=True).dt.tz_convert("America/New_York").dt.year \
        if len(trades) else pd.Series(dtype=int)
    for year in year_end.index:
        row = {"year": int(year), "portfolio_return_pct": round((year_end[year] / previous[year] - 1) * 100, 4)}
        for strategy in cfg.active_strategies():
            name = strategy.display_name
            mine = trades[(trades["strategy"] == name) & (trade_years == year)] if len(trades) else trades
            row[f"{name}.trades"] = int(len(mine))
            row[f"{name}.pnl"] = round(float(mine["pnl"].sum()), 2) if len(mine) else 0.0
            row[f"{name}.trade_return_pct"] = (round(float(mine["pnl_pct"].sum()), 4) if len(mine) else None)
            hold, unconditional = window_baseline(strategy, int(year), bars.get(strategy.symbol))
            row[f"{name}.hold_window_pct"] = None if hold is None else round(hold * 100, 4)
            row[f"{name}.unconditional_pct"] = None if unconditional is None else round(unconditional * 100, 4)
        rows.append(row)
    return rows


def window_baseline(strategy, year: int, bars: pd.DataFrame | None) -> tuple[float | None, float | None]:
    """(hold, unconditional) returns of the playbook's ``year`` window (its ``baseline_year``), or Nones."""
    if bars is None:
        return None, None
    result = STRATEGIES[strategy.name].baseline_year(year, strategy.typed_params(), bars)
    return (None, None) if result is None else result


def baseline_summary(cfg: RunConfig, years: list[dict]) -> dict:
    """Per playbook: its total trade return against holding / taking its side every year's window."""
    summary = {}
    for strategy in cfg.active_strategies():
        name = strategy.display_name
        holds = [r[f"{name}.hold_window_pct"] for r in years if r[f"{name}.hold_window_pct"] is not None]
        uncond = [r[f"{name}.unconditional_pct"] for r in years if r[f"{name}.unconditional_pct"] is not None]
        traded = [r for r in years if r[f"{name}.trades"]]
        summary[name] = {
            "years_with_window": len(holds),
            "years_traded": len(traded),
            "playbook_pnl": round(sum(r[f"{name}.pnl"] for r in years), 2),
            "playbook_mean_trade_return_pct": _mean(r[f"{name}.trade_return_pct"] for r in traded),
            "hold_window_mean_pct": _mean(holds),
            "hold_window_wins": int(sum(h > 0 for h in holds)),
            "unconditional_mean_pct": _mean(uncond),
            "unconditional_wins": int(sum(u > 0 for u in uncond)),
            "hold_in_traded_years_mean_pct": _mean(r[f"{name}.hold_window_pct"] for r in traded),
        }
    return summary


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return round(float(np.mean(present)), 4) if present else None


def buy_and_hold(bars: dict[str, pd.DataFrame], cfg: RunConfig) -> dict:
    """Holding each instrument over the whole run, for scale."""
    out = {}
    for strategy in cfg.active_strategies():
        b = bars.get(strategy.symbol)
        if b is not None and len(b) > 1:
            out[strategy.symbol] = round(float(b["close"].iloc[-1] / b["close"].iloc[0] - 1) * 100, 4)
    return out
