"""What the report shows per playbook, gathered from the run: its trades, bars, label and figures.

The figures come from ``metrics.json`` (``metrics.py`` computes them); a figure
the metrics do not carry is shown as missing, never recomputed differently
here. The only things derived here are what the pictures need: each
playbook's P&L marked at the session closes, the benchmark of holding its
instrument, and each trade's stop and target from the orders it sent.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from runner.data.sample import sample_note
from runner.report.formatting import naive_new_york

REAL, PROXY, SYNTHETIC, USER = "real", "PROXY", "SYNTHETIC", "your data"
FEW_TRADES = 20   # below this a hit rate or a mean says little; the card says so


@dataclass
class PlaybookView:
    name: str                       # display name (as in trades.csv)
    strategy: str                   # registry name
    symbol: str
    label: str                      # REAL / PROXY / SYNTHETIC / USER
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
        index = naive_new_york(self.bars.index)
        close = pd.Series(self.bars["close"].to_numpy(dtype="float64"), index=index)
        if self.intraday:
            close = close.groupby(index.normalize()).last()
        # Stamped at 16:00 so that a fill at that session's open or close compares as on or before it.
        close.index = close.index.normalize() + pd.Timedelta(hours=16)
        return close


def data_label(strategy_cfg) -> tuple[str, list[str]]:
    """The data label of a playbook and one line per source; SYNTHETIC or PROXY anywhere wins."""
    lines, labels = [], []
    sources = [("bars", strategy_cfg.data), *strategy_cfg.feeds.items()]
    for role, source in sources:
        if source.sample:
            note = sample_note(source.sample)
            labels.append(SYNTHETIC if "SYNTHETIC" in note else PROXY if "PROXY" in note else REAL)
        elif source.cache:
            note = "bars fetched from IB (flowbot fetch)"
            labels.append(REAL)
        else:
            note = "your data file"
            labels.append(USER)
        lines.append(f"{role}: {source.describe()} — {note}")
    for label in (SYNTHETIC, PROXY, USER):
        if label in labels:
            return label, lines
    return REAL, lines


def card_figures(name: str, metrics: dict, trades: pd.DataFrame) -> dict:
    """The header card's figures: metrics' own per-playbook figures where present, trade counts from trades.csv."""
    own = (metrics.get("playbooks") or {}).get(name) or {}
    baseline = (metrics.get("baseline") or {}).get(name) or {}
    returns = [float(r) for r in trades["pnl_pct"]] if len(trades) else []

    def pick(*keys, source=None):
        for where in ((source,) if source is not None else (own, baseline)):
            for key in keys:
                if where.get(key) is not None:
                    return where[key]
        return None

    hit = pick("hit_rate_pct", "win_rate_pct")
    figures = {
        "trades": pick("trades") if pick("trades") is not None else len(trades),
        "years_traded": pick("years_traded", "years_with_signal"),
        "years_with_window": pick("years_with_window", "years"),
        "hit_rate_pct": hit if hit is not None else (100.0 * sum(r > 0 for r in returns) / len(returns)
                                                     if returns else None),
        "mean_trade_pct": pick("mean_trade_return_pct", "mean_trade_pct"),
        "median_trade_pct": pick("median_trade_return_pct", "median_trade_pct"),
        "pnl": pick("pnl", "playbook_pnl", "net_pnl"),
        "hold_pct": pick("hold_mean_pct", "hold_window_mean_pct"),
        "hold_traded_pct": pick("hold_in_traded_years_mean_pct"),
        "unconditional_pct": pick("unconditional_mean_pct"),
        "p_value": pick("p_value", "luck_p_value", "permutation_p_value"),
        "luck_note": pick("luck", "luck_note", "warning"),
    }
    if returns and "mean_trade_pct" not in own and "mean_trade_return_pct" not in own:
        # Until metrics carries a per-trade mean, the card shows the plain mean and median of the
        # trades' own returns (trades.csv pnl_pct): exact for what they are named.
        figures["mean_trade_pct"] = statistics.fmean(returns)
        figures["median_trade_pct"] = statistics.median(returns)
    return figures


def build_views(cfg, metrics: dict, trades: pd.DataFrame, orders: pd.DataFrame,
                bars: dict[str, pd.DataFrame]) -> list[PlaybookView]:
    from strategies.registry import STRATEGIES

    views = []
    marked = with_stops_and_targets(trades, orders)
    for strategy in cfg.active_strategies():
        name = strategy.display_name
        mine = marked[marked["strategy"] == name].reset_index(drop=True) if len(marked) else marked
        own_bars = bars.get(strategy.symbol)
        label, sources = data_label(strategy)
        own_label = ((metrics.get("playbooks") or {}).get(name) or {}).get("data_label")
        views.append(PlaybookView(
            name=name, strategy=strategy.name, symbol=strategy.symbol, label=own_label or label, sources=sources,
            intraday=_is_intraday(own_bars), trades=mine, bars=own_bars, figures=card_figures(name, metrics, mine),
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
