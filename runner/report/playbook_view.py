"""What the report shows per playbook, gathered from the run: its trades, bars, label and figures.

The figures come from ``metrics.json`` (``metrics.py`` and
``playbook_figures.py`` compute them); a figure the metrics do not carry is
shown as missing, never recomputed here. The only things derived here are what the pictures need: each
playbook's P&L marked at the session closes, the benchmark of holding its
instrument, and each trade's stop and target from the orders it sent.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from runner.data.sample import sample_note
from runner.report.formatting import naive_new_york
from runner.report.provenance import playbook_label
from strategies.wall_clock import new_york_ns

DAY_NS = 86_400_000_000_000

REAL, PROXY, SYNTHETIC, USER = "REAL", "PROXY", "SYNTHETIC", "USER"


@dataclass
class PlaybookView:
    name: str                       # display name (as in trades.csv)
    strategy: str                   # registry name
    symbol: str
    label: str                      # metrics' data_label: REAL, SYNTHETIC, REAL+PROXY, USER_FILE, IB_CACHE
    sources: list[str]              # one line per data source: what it is
    intraday: bool
    trades: pd.DataFrame            # this playbook's rows of trades.csv, with stop and target columns
    bars: pd.DataFrame | None       # its instrument's bars (New York index)
    figures: dict = field(default_factory=dict)
    params: object = None
    strategy_cfg: object = None

    @property
    def closes(self) -> pd.Series:
        """Session closes (naive New York dates at 16:00 or the early close), for curves."""
        if self.bars is None or self.bars.empty:
            return pd.Series(dtype="float64")
        values = self.bars["close"].to_numpy(dtype="float64")
        last = _last_bar_of_each_day(self.bars.index, values) if self.intraday else None
        if last is not None:   # only those bars' times converted (the whole index was, once, by the run)
            close = pd.Series(values[last], index=naive_new_york(self.bars.index[last]).normalize())
        else:
            index = naive_new_york(self.bars.index)
            close = pd.Series(values, index=index)
            if self.intraday:
                close = close.groupby(index.normalize()).last()
        # Stamped at 16:00 so that a fill at that session's open or close compares as on or before it.
        close.index = close.index.normalize() + pd.Timedelta(hours=16)
        return close


def _last_bar_of_each_day(index: pd.DatetimeIndex, close: np.ndarray) -> np.ndarray | None:
    """Positions of each New York day's last bar, the bars ``groupby(day).last()`` of the closes picks when
    the times are sorted and no close is missing (then each day's last bar is where the day changes, found
    without grouping 2 million values, on the wall-clock times the intraday check worked out); else None."""
    if index.tz is None or not len(close) or np.isnan(close).any():
        return None
    days = new_york_ns(index) // DAY_NS
    if not (days[1:] >= days[:-1]).all():
        return None
    return np.flatnonzero(np.r_[days[1:] != days[:-1], True])


def label_class(label: str) -> str:
    """The display class of a data label (metrics' ``data_label``, e.g. ``REAL+PROXY``): SYNTHETIC or
    PROXY anywhere wins, then a user's file."""
    for wanted in (SYNTHETIC, PROXY):
        if wanted in label:
            return wanted
    return USER if "USER" in label else REAL


def data_sources(strategy_cfg) -> list[str]:
    """One line per data source of a playbook: what it is."""
    lines = []
    for role, source in [("bars", strategy_cfg.data), *strategy_cfg.feeds.items()]:
        if source.sample:
            note = sample_note(source.sample)
        elif source.cache:
            note = "bars fetched from IB (flowbot fetch)"
        else:
            note = "your data file"
        lines.append(f"{role}: {source.describe()} — {note}")
    return lines


def card_figures(own: dict) -> dict:
    """The card's figures, read from the playbook's entry in metrics.json (``metrics["playbooks"][name]``)."""
    perf, sample = own.get("performance") or {}, own.get("sample") or {}
    against, luck = own.get("against_windows") or {}, own.get("luck") or {}
    return {
        "trades": sample.get("trades", perf.get("trades", 0)),
        "years_traded": sample.get("years_with_a_trade"),
        "years_covered": sample.get("years_covered"),
        "windows": sample.get("windows"), "windows_traded": sample.get("windows_traded"),
        "hit_rate_pct": perf.get("win_rate_pct"),
        "mean_trade_pct": perf.get("mean_trade_return_pct"),
        "median_trade_pct": perf.get("median_trade_return_pct"),
        "pnl": perf.get("net_pnl"),
        "return_pct": perf.get("total_return_pct"),
        "max_drawdown_pct": perf.get("max_drawdown_pct"),
        "exposure_pct": perf.get("exposure_pct"),
        "hold_pct": against.get("hold_window_mean_pct"),
        "hold_traded_pct": against.get("hold_in_traded_windows_mean_pct"),
        "unconditional_pct": against.get("unconditional_window_mean_pct"),
        "vs_hold_pp": against.get("vs_hold_in_traded_windows_pp"),
        "vs_unconditional_pp": against.get("vs_unconditional_pp"),
        "p_value": luck.get("p_value"), "luck_draws": luck.get("draws"), "luck_exact": luck.get("exact"),
        "warnings": list(own.get("warnings") or []),
        "per_year": list(own.get("per_year") or []),
        "account": own.get("account", ""),
    }


def build_views(cfg, metrics: dict, trades: pd.DataFrame, orders: pd.DataFrame,
                bars: dict[str, pd.DataFrame]) -> list[PlaybookView]:
    from strategies.registry import STRATEGIES

    views = []
    marked = with_stops_and_targets(trades, orders)
    for strategy in cfg.active_strategies():
        name = strategy.display_name
        mine = marked[marked["strategy"] == name].reset_index(drop=True) if len(marked) else marked
        own_bars = bars.get(strategy.symbol)
        own = (metrics.get("playbooks") or {}).get(name) or {}
        label = own.get("data_label") or playbook_label(strategy)
        views.append(PlaybookView(
            name=name, strategy=strategy.name, symbol=strategy.symbol, label=label, sources=data_sources(strategy),
            intraday=_is_intraday(own_bars), trades=mine, bars=own_bars, figures=card_figures(own),
            params=strategy.typed_params(), strategy_cfg=STRATEGIES.get(strategy.name)))
    return views


def _is_intraday(bars: pd.DataFrame | None) -> bool:
    if bars is None or len(bars) < 3:
        return False
    steps = pd.Series(bars.index[: min(len(bars), 500)]).diff().dropna()
    return bool(steps.median() < pd.Timedelta(hours=6))


def with_stops_and_targets(trades: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """``trades`` with ``stop`` and ``target``: the last price of the stop and target orders each trade sent."""
    out = trades.copy()
    out["stop"] = np.nan
    out["target"] = np.nan
    if not len(trades) or not len(orders):
        return out
    # Each order belongs to the first trade (by exit) that exited at or after it, and after the previous
    # exit; per trade, the last such stop and target price. One sorted search per playbook, no loop.
    order_times = pd.to_datetime(orders["time"], utc=True).to_numpy()
    exits = pd.to_datetime(trades["exit_time"], utc=True).to_numpy()
    reasons = orders["reason"].astype(str)
    kinds = {"stop": (reasons.str.contains("stop").to_numpy(), orders["stop_price"].to_numpy(dtype="float64")),
             "target": (reasons.str.contains("target").to_numpy(), orders["limit_price"].to_numpy(dtype="float64"))}
    for (strategy, symbol), rows in out.groupby(["strategy", "symbol"]).groups.items():
        rows = np.asarray(rows)
        rows = rows[np.argsort(exits[out.index.get_indexer(rows)], kind="stable")]
        sorted_exits = exits[out.index.get_indexer(rows)]
        mine = ((orders["strategy"] == strategy) & (orders["symbol"] == symbol)).to_numpy()
        owner = np.searchsorted(sorted_exits, order_times, side="left")
        for column, (is_kind, price) in kinds.items():
            pick = mine & is_kind & ~np.isnan(price) & (owner < len(rows))
            last = pd.Series(price[pick]).groupby(owner[pick]).last()
            out.loc[rows[last.index.to_numpy()], column] = last.to_numpy()
    return out


def pnl_curve(view: PlaybookView, start_value: float) -> pd.Series:
    """The playbook's account value if it traded alone: ``start_value`` + closed P&L + open P&L at each close."""
    closes = view.closes
    if closes.empty:
        return closes
    curve = np.full(len(closes), float(start_value))
    dates = closes.index.to_numpy()
    trades = view.trades
    if len(trades):
        entries = naive_new_york(trades["entry_time"]).to_numpy()
        exits = naive_new_york(trades["exit_time"]).to_numpy()
        direction = np.where(trades["direction"] == "long", 1.0, -1.0)
        size = trades["size"].to_numpy(dtype="float64")
        entry_price = trades["entry_price"].to_numpy(dtype="float64")
        pnl = trades["pnl"].to_numpy(dtype="float64")
        values = closes.to_numpy()
        for i in range(len(trades)):
            closed = dates >= exits[i]
            curve[closed] += pnl[i]
            held = (dates >= entries[i]) & ~closed
            curve[held] += direction[i] * size[i] * (values[held] - entry_price[i])
    return pd.Series(curve, index=closes.index)


def hold_curve(view: PlaybookView, start_value: float) -> pd.Series:
    """``start_value`` held in the playbook's instrument from its first close."""
    closes = view.closes
    return closes if closes.empty else start_value * closes / closes.iloc[0]


def exposure_points(view: PlaybookView, equity: pd.Series) -> pd.DataFrame:
    """Per trade: entry time, the position's value as % of the account at entry, and its return."""
    trades = view.trades
    if not len(trades):
        return pd.DataFrame(columns=["time", "exposure_pct", "pnl_pct"])
    times = naive_new_york(trades["entry_time"])
    notional = trades["size"].to_numpy(dtype="float64") * trades["entry_price"].to_numpy(dtype="float64")
    account = equity.asof(times).to_numpy() if len(equity) else np.full(len(trades), np.nan)
    account = np.where(np.isnan(account), equity.iloc[0] if len(equity) else np.nan, account)
    direction = np.where(trades["direction"] == "long", 1.0, -1.0)
    return pd.DataFrame({"time": times, "exposure_pct": direction * notional / account * 100.0,
                         "pnl_pct": trades["pnl_pct"].to_numpy(dtype="float64")})
