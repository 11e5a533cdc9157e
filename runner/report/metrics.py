"""Performance of one account, per playbook figures against its windows, and the luck measure.

Each playbook runs on its own account (``broker.cash``), so its figures never
depend on which other playbooks ran. Every key is documented in docs/metrics.md.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from strategies import market_calendar

TRADING_DAYS = 252
NEW_YORK = "America/New_York"


def trade_figures(trades: pd.DataFrame) -> dict:
    """Figures of ``trades`` (trades.csv rows) alone: count, hit rate, profit factor, mean and median
    trade return (true mean and median of ``pnl_pct``), net P&L."""
    pnl = trades["pnl"].to_numpy(dtype="float64") if len(trades) else np.array([])
    pnl_pct = trades["pnl_pct"].to_numpy(dtype="float64") if len(trades) else np.array([])
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    return {
        "trades": int(len(pnl)),
        "win_rate_pct": round(len(wins) / len(pnl) * 100.0, 2) if len(pnl) else None,
        "profit_factor": round(float(wins.sum() / -losses.sum()), 4) if len(losses) and losses.sum() < 0 else None,
        "mean_trade_return_pct": round(float(pnl_pct.mean()), 4) if len(pnl_pct) else None,
        "median_trade_return_pct": round(float(np.median(pnl_pct)), 4) if len(pnl_pct) else None,
        "net_pnl": round(float(pnl.sum()), 2),
    }


def performance(equity: pd.DataFrame | None, trades: pd.DataFrame, periods_per_year: float = TRADING_DAYS) -> dict:
    """Figures of one account from ``equity`` (time, value, cash; a row at every session close and at
    every bar while a position is open) and its ``trades`` (trades.csv rows). ``equity`` None: the
    trades' figures only (a playbook sharing an account with others)."""
    if equity is None:
        return trade_figures(trades)
    values = equity["value"].to_numpy(dtype="float64")
    if len(values) < 2:
        return {"bars": int(len(values)), **trade_figures(trades)}
    times = pd.DatetimeIndex(utc_times(equity["time"])).tz_convert(NEW_YORK)
    # Session returns (for Sharpe, Sortino, CAGR) from the last value of each session.
    # The first value (the account at the start) is the base of the first session's return.
    session_values = np.r_[values[0], last_of_each_day(values, times)]
    returns = np.diff(session_values) / session_values[:-1]
    years = len(returns) / periods_per_year
    total = values[-1] / values[0] - 1.0
    drawdown = values / np.maximum.accumulate(values) - 1.0
    downside = returns[returns < 0]
    std = returns.std(ddof=1) if len(returns) > 1 else 0.0
    down_std = math.sqrt((downside ** 2).sum() / len(returns)) if len(returns) else 0.0
    figures = trade_figures(trades)
    return {
        "start": str(equity["time"].iloc[0]), "end": str(equity["time"].iloc[-1]),
        "start_value": round(float(values[0]), 2), "end_value": round(float(values[-1]), 2),
        "total_return_pct": round(total * 100.0, 4),
        "cagr_pct": round(((1.0 + total) ** (1.0 / years) - 1.0) * 100.0, 4) if years > 0 and total > -1 else None,
        "sharpe": round(float(returns.mean() / std * math.sqrt(periods_per_year)), 4) if std > 0 else None,
        "sortino": round(float(returns.mean() / down_std * math.sqrt(periods_per_year)), 4) if down_std > 0 else None,
        "max_drawdown_pct": round(float(drawdown.min()) * 100.0, 4),
        "trades": figures.pop("trades"),
        "win_rate_pct": figures.pop("win_rate_pct"),
        "profit_factor": figures.pop("profit_factor"),
        "mean_trade_return_pct": figures.pop("mean_trade_return_pct"),
        "median_trade_return_pct": figures.pop("median_trade_return_pct"),
        "exposure_pct": exposure_pct(times, trades),
        "net_pnl": figures.pop("net_pnl"),
    }


def utc_times(column) -> pd.Series:
    """``pd.to_datetime(column, utc=True)``; ISO text (the run log's times) read as ISO 8601 without
    guessing its layout from the first values (the guess cost more than the rest of a sweep run's figures)."""
    if pd.api.types.is_string_dtype(column) and not isinstance(column, (str, bytes)):
        return pd.to_datetime(column, utc=True, format="ISO8601")
    return pd.to_datetime(column, utc=True)


DAY_NS = 86_400_000_000_000


def last_of_each_day(values: np.ndarray, times: pd.DatetimeIndex) -> np.ndarray:
    """``pd.Series(values, index=times).groupby(times.date).last()``'s values: per calendar day of
    ``times`` (their own zone), in date order, the day's last value that is not NaN."""
    if np.isnan(values).any():
        return pd.Series(values, index=times).groupby(times.date).last().to_numpy()
    days = times.tz_localize(None).as_unit("ns").asi8 // DAY_NS
    _, from_end = np.unique(days[::-1], return_index=True)
    return values[len(values) - 1 - from_end]


def exposure_pct(times: pd.DatetimeIndex, trades: pd.DataFrame) -> float:
    """Percent of the regular-session time of the sessions in ``times`` with a position open
    (from each trade's entry to its exit, counting session hours only)."""
    spans = _session_spans(times)
    if spans is None:
        return 0.0
    o, c, total = spans
    held = 0.0
    if len(trades):
        ns = lambda t: pd.DatetimeIndex(utc_times(t)).as_unit("ns").asi8   # noqa: E731
        for entry, exit_ in zip(ns(trades["entry_time"]), ns(trades["exit_time"])):
            overlap = np.minimum(c, exit_) - np.maximum(o, entry)
            held += float(overlap[overlap > 0].sum()) / 1e9
    return round(held / total * 100.0, 4)


_spans: dict[bytes, tuple[np.ndarray, np.ndarray, float] | None] = {}


def _session_spans(times: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(opens, closes as UTC nanoseconds, total seconds) of the sessions among the New York dates of
    ``times``; None if there are none. Remembered per set of dates: every run of a sweep asks for
    the same sessions, and building them is most of what the figures cost."""
    days = np.unique(times.tz_localize(None).as_unit("ns").asi8 // market_calendar.DAY_NS)
    key = days.tobytes()
    if key not in _spans:
        sessions, closes = market_calendar.sessions_among(days.astype("datetime64[D]"))
        if not len(sessions):
            hit = None
        else:
            opens = market_calendar.session_opens_ns(sessions)
            total = float(((closes - opens) / 1e9).sum())
            hit = (opens, closes, total)
        if len(_spans) > 64:
            _spans.clear()
        _spans[key] = hit
    return _spans[key]


def bin_trades(trades: pd.DataFrame, windows: pd.DataFrame) -> np.ndarray:
    """Per trade, the row of the window whose span holds its entry session (-1 if none)."""
    if not len(trades) or not len(windows):
        return np.full(len(trades), -1)
    entry = pd.to_datetime(trades["entry_time"], utc=True).dt.tz_convert(NEW_YORK).dt.date.to_numpy()
    first = windows["first_session"].to_numpy()
    last = windows["last_session"].to_numpy()
    inside = (entry[:, None] >= first[None, :]) & (entry[:, None] <= last[None, :])
    return np.where(inside.any(axis=1), inside.argmax(axis=1), -1)


def trade_window_years(trades: pd.DataFrame, windows: pd.DataFrame) -> np.ndarray:
    """Per trade, the ``year`` of its window (:func:`bin_trades`); a trade outside every window gets the
    year of its entry session. The year the backtest's per-year figures put it in; a sweep's walk-forward
    folds use it too."""
    if not len(trades):
        return np.array([], dtype=int)
    where = bin_trades(trades, windows)
    entry_years = pd.to_datetime(trades["entry_time"], utc=True).dt.tz_convert(NEW_YORK).dt.year.to_numpy()
    window_years = windows["year"].to_numpy(dtype=int) if len(windows) else np.array([], dtype=int)
    return np.where(where >= 0, window_years[np.maximum(where, 0)] if len(window_years) else entry_years,
                    entry_years).astype(int)


def window_table(windows: pd.DataFrame, trades: pd.DataFrame) -> pd.DataFrame:
    """The windows with the playbook's trades in them: trades, pnl, trade_return_pct (mean of pnl_pct)."""
    table = windows.copy()
    where = bin_trades(trades, windows)
    counts = np.bincount(where[where >= 0], minlength=len(table)) if len(table) else np.array([], dtype=int)
    table["trades"] = counts.astype(int)
    if len(trades):
        grouped = trades.assign(_w=where)[where >= 0].groupby("_w")
        table["pnl"] = grouped["pnl"].sum().reindex(range(len(table)), fill_value=0.0).to_numpy()
        table["trade_return_pct"] = grouped["pnl_pct"].mean().reindex(range(len(table))).to_numpy()
    else:
        table["pnl"] = 0.0
        table["trade_return_pct"] = np.nan
    return table


def per_year_rows(table: pd.DataFrame, trades: pd.DataFrame) -> list[dict]:
    """One row per window year: trades, P&L, the mean and sum of trade returns, and the windows held."""
    where = bin_trades(trades, table)
    # Plain arrays, not a groupby of frames: the same sums and means (pandas' of a float column without
    # NaN are numpy's), a fraction of the time over ~30 years.
    labels = table.index.to_numpy()
    years = table["year"].to_numpy()
    hold, unconditional = (table[c].to_numpy(dtype="float64") for c in ("hold", "unconditional"))
    pnl = trades["pnl"].to_numpy(dtype="float64") if len(trades) else np.array([])
    pnl_pct = trades["pnl_pct"].to_numpy(dtype="float64") if len(trades) else np.array([])
    rows = []
    for year in np.unique(years):
        in_year = years == year
        mine = np.isin(where, labels[in_year]) if len(trades) else np.zeros(0, dtype=bool)
        pct = pnl_pct[mine]
        held, untaken = hold[in_year], unconditional[in_year]
        rows.append({
            "year": int(year), "windows": int(in_year.sum()), "trades": int(mine.sum()),
            "pnl": round(float(_sum(pnl[mine])), 2) if mine.any() else 0.0,
            "trade_return_mean_pct": _round_pct(pct.mean() / 100.0) if len(pct) else None,
            "trade_return_sum_pct": _round_pct(pct.sum() / 100.0) if len(pct) else None,
            "hold_compounded_pct": _round_pct(np.prod(1.0 + held) - 1.0),
            "unconditional_compounded_pct": _round_pct(np.prod(1.0 + untaken) - 1.0),
            "hold_mean_pct": _round_pct(_mean(held)),
            "unconditional_mean_pct": _round_pct(_mean(untaken)),
        })
    return rows


def _sum(values: np.ndarray) -> float:
    """pandas' ``Series.sum``: NaN skipped."""
    return values.sum() if not np.isnan(values).any() else pd.Series(values).sum()


def _mean(values: np.ndarray) -> float:
    """pandas' ``Series.mean``: NaN skipped."""
    return values.mean() if not np.isnan(values).any() else pd.Series(values).mean()


def against_windows(table: pd.DataFrame, trades: pd.DataFrame) -> dict:
    """The playbook's mean trade against holding / taking its side in every window, and in its traded ones."""
    traded = table[table["trades"] > 0]
    pct = trades["pnl_pct"].to_numpy(dtype="float64") if len(trades) else np.array([])
    mean = round(float(pct.mean()), 4) if len(pct) else None
    hold_traded = _round_pct(traded["hold"].mean()) if len(traded) else None
    unconditional = _round_pct(table["unconditional"].mean()) if len(table) else None
    return {
        "windows": int(len(table)),
        "windows_traded": int(len(traded)),
        "years_with_a_trade": int(traded["year"].nunique()) if len(traded) else 0,
        "trades_outside_windows": int((bin_trades(trades, table) < 0).sum()) if len(trades) else 0,
        "trade_return_mean_pct": mean,
        "hold_window_mean_pct": _round_pct(table["hold"].mean()) if len(table) else None,
        "hold_window_wins": int((table["hold"] > 0).sum()),
        "unconditional_window_mean_pct": unconditional,
        "unconditional_window_wins": int((table["unconditional"] > 0).sum()),
        "hold_in_traded_windows_mean_pct": hold_traded,
        "unconditional_in_traded_windows_mean_pct": _round_pct(traded["unconditional"].mean()) if len(traded) else None,
        "vs_hold_in_traded_windows_pp": _difference(mean, hold_traded),
        "vs_unconditional_pp": _difference(mean, unconditional),
    }


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 4)


def window_records(table: pd.DataFrame) -> list[dict]:
    records = []
    for row in table.itertuples(index=False):
        records.append({"window": row.window, "year": int(row.year), "first_session": str(row.first_session),
                        "entry_at": row.entry_at, "last_session": str(row.last_session),
                        "hold_pct": _round_pct(row.hold), "unconditional_pct": _round_pct(row.unconditional),
                        "trades": int(row.trades), "pnl": round(float(row.pnl), 2),
                        "trade_return_pct": None if pd.isna(row.trade_return_pct) else round(float(row.trade_return_pct), 4)})
    return records


def buy_and_hold(bars: pd.DataFrame | None) -> float | None:
    """Holding the instrument over the whole run (first close to last close), percent, for scale."""
    if bars is None or len(bars) < 2:
        return None
    return round(float(bars["close"].iloc[-1] / bars["close"].iloc[0] - 1) * 100, 4)


def _round_pct(fraction) -> float | None:
    if fraction is None or not np.isfinite(fraction):
        return None
    return round(float(fraction) * 100.0, 4)
