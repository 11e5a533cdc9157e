"""The report's tables: per-year rows in each playbook's window, its trades, and the monthly-returns heatmap."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from runner.report.formatting import (DASH, MINUS, Column, count, escape, money, naive_new_york, pct, price,
                                      table, when)
from runner.report.playbook_view import PlaybookView

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def window_label(view: PlaybookView, year: int) -> str:
    """The sessions a playbook's ``year`` row covers (e.g. ``Dec 20 – Dec 31 1999``)."""
    cls = view.strategy_cfg
    if cls is None or not hasattr(cls, "baseline_window"):
        return "eligible sessions"
    try:
        window = cls.baseline_window(year, view.params)
    except (ValueError, IndexError):
        return DASH
    if window is None:
        return "eligible sessions"
    first, last = window

    def day(d: dt.date) -> str:
        return f"{MONTHS[d.month - 1]} {d.day}"
    return f"{day(first)} – {day(last)} {last.year}"


def per_year_rows(view: PlaybookView) -> list[dict]:
    """The playbook's per-year rows of metrics.json (its trades binned with their window, not their exit)."""
    rows = []
    for row in view.figures.get("per_year") or []:
        rows.append({"year": row["year"], "window": window_label(view, int(row["year"])),
                     "windows": row.get("windows"), "trades": row.get("trades") or 0,
                     "trade_return": row.get("trade_return_mean_pct"), "pnl": row.get("pnl"),
                     "hold": row.get("hold_mean_pct"), "unconditional": row.get("unconditional_mean_pct")})
    return rows


PER_YEAR_COLUMNS = [
    Column("year", "Year", str, text=True),
    Column("window", "Window", escape, text=True),
    Column("windows", "Windows", count),
    Column("trades", "Trades", count),
    Column("trade_return", "Mean trade", pct),
    Column("pnl", "P&L", money),
    Column("hold", "Hold, mean per window", pct),
    Column("unconditional", "Its side, mean per window", pct),
]


def per_year_table(view: PlaybookView) -> str:
    rows = per_year_rows(view)
    if not rows:
        return "<p class='note'>The data covers none of the playbook's windows.</p>"
    return table(rows, PER_YEAR_COLUMNS, tall=len(rows) > 14, row_class=lambda r: "" if r["trades"] else "quiet")


def trades_table(view: PlaybookView) -> str:
    if not len(view.trades):
        return "<p class='note'>No trades.</p>"
    tick = 0.01
    columns = [
        Column("entry_time", "Entry (New York)", when, text=True),
        Column("exit_time", "Exit", when, text=True),
        Column("direction", "Side", escape, text=True),
        Column("size", "Shares", count),
        Column("entry_price", "Entry price", lambda v: price(v, tick)),
        Column("exit_price", "Exit price", lambda v: price(v, tick)),
        Column("stop", "Stop", lambda v: price(v, tick)),
        Column("target", "Target", lambda v: price(v, tick)),
        Column("pnl", "P&L", money),
        Column("pnl_pct", "Return", pct),
        Column("commission", "Commission", lambda v: money(v, colour=False).lstrip("+")),
        Column("exit_reason", "Exit reason", lambda v: escape(str(v).replace("_", " ")), text=True),
    ]
    if "filters" in view.trades and view.trades["filters"].fillna("").astype(str).str.len().any():
        # Each signal filter's value at the entry decision (strategies.signals.filters).
        columns.append(Column("filters", "Filters at the decision", lambda v: escape("" if v is None else str(v)),
                              text=True))
    records = view.trades.to_dict("records")
    return table(records, columns, tall=len(records) > 14)


def monthly_returns(equity: pd.DataFrame) -> pd.DataFrame:
    """Year × month returns (%) of the account value, from month-end to month-end (the first month from
    the first value), and the year's return in ``year``; rows are years, columns 1–12 then ``year``.

    The last value of each month is found with one pass over the sorted month keys (a pandas groupby on
    the year and month of every row of a minute-bar account was most of the heatmap's cost)."""
    values = equity["value"].to_numpy(dtype="float64")
    stamps = naive_new_york(equity["time"])
    years, months = stamps.year.to_numpy(), stamps.month.to_numpy()
    order = np.argsort(stamps.asi8, kind="stable")
    values, years, months = values[order], years[order], months[order]
    month_key = years * 12 + (months - 1)
    month_last = np.flatnonzero(np.r_[month_key[1:] != month_key[:-1], True])
    year_last = np.flatnonzero(np.r_[years[1:] != years[:-1], True])
    month_end, year_end = values[month_last], values[year_last]
    month_returns = (month_end / np.r_[values[0], month_end[:-1]] - 1.0) * 100.0
    year_returns = (year_end / np.r_[values[0], year_end[:-1]] - 1.0) * 100.0
    rows = years[year_last]
    grid = np.full((len(rows), 12), np.nan)
    grid[np.searchsorted(rows, years[month_last]), months[month_last] - 1] = month_returns
    frame = pd.DataFrame(grid, index=pd.Index(rows), columns=range(1, 13))
    frame["year"] = year_returns
    return frame


def _cell_colour(value: float, scale: float) -> str:
    if value is None or np.isnan(value) or round(value, 2) == 0 or scale <= 0:
        return ""
    strength = min(1.0, abs(value) / scale)
    base = (46, 125, 79) if value > 0 else (198, 40, 40)
    mix = [round(255 + (c - 255) * (0.15 + 0.7 * strength)) for c in base]
    ink = "#fff" if strength > 0.65 else "#1d232b"
    return f" style='background:rgb({mix[0]},{mix[1]},{mix[2]});color:{ink}'"


def heatmap_table(equity: pd.DataFrame) -> str:
    if len(equity) < 2:
        return "<p class='note'>Too short for monthly returns.</p>"
    grid = monthly_returns(equity)
    months = grid[list(range(1, 13))].to_numpy(dtype="float64")
    scale = float(np.nanpercentile(np.abs(months), 95)) if np.isfinite(months).any() else 0.0
    head = "".join(f"<th>{m}</th>" for m in MONTHS) + "<th>Year</th>"
    body = []
    for year, row in zip(grid.index, grid.to_numpy(dtype="float64").tolist()):
        cells = []
        for m, value in enumerate(row):
            text = DASH if np.isnan(value) else _heat_text(value)
            colour = _cell_colour(value, scale if m < 12 else max(scale, abs(value)))
            quiet = " class='zero'" if not colour else ""
            cells.append(f"<td{colour}{quiet}>{text}</td>")
        body.append(f"<tr><td>{year}</td>{''.join(cells)}</tr>")
    return (f"<div class='scroll'><table class='heat'><thead><tr><th>Year</th>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _heat_text(value: float) -> str:
    shown = round(value, 2)
    if shown == 0:
        return "0.00"
    return f"{'+' if shown > 0 else MINUS}{abs(shown):.2f}"
