"""report.html of a backtest or paper run: one self-contained page (inline CSS, PNG data) that opens offline.

It answers per playbook: did it work, against what, how often, how sure are
we. A header card per playbook (with its data label), equity per playbook and
combined against holding the instrument, drawdown, exposure, a chart per
trade, per-year rows in each playbook's window, the combined book's monthly
returns and the distribution of trade returns.
"""
from __future__ import annotations

import pandas as pd

from runner.report import charts, report_tables, trade_charts
from runner.report.formatting import (STYLE, count, escape, naive_new_york, p_value, pct, ratio, share, when)
from runner.report.formatting import money as fmt_money
from runner.report.playbook_view import (FEW_TRADES, PROXY, SYNTHETIC, USER, PlaybookView, build_views,
                                         exposure_points, hold_curve, pnl_curve)

LABEL_CLASS = {SYNTHETIC: "synthetic", PROXY: "proxy", USER: "user"}
LABEL_WARNING = {
    SYNTHETIC: "SYNTHETIC data: generated prices. These figures show the mechanics and prove nothing.",
    PROXY: "Uses PROXY data (a stand-in series built from other data): read the figures with care.",
}


def render_report(cfg, result, notes: list[str], mode: str | None = None) -> str:
    """The whole page for a finished run (``result``: a BacktestResult); ``mode`` backtest or paper."""
    metrics = result.metrics
    mode = mode or metrics.get("mode") or "backtest"
    equity = _live_part(result.equity, metrics.get("live_since") if mode == "paper" else None)
    views = build_views(cfg, metrics, result.trades, result.orders, result.bars)
    start_value = float(equity["value"].iloc[0]) if len(equity) else float(cfg.broker.cash)
    title = f"flowbot {mode}: {cfg.name}"
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{escape(title)}</title>"
             f"<style>{STYLE}</style></head><body><main>",
             _page_header(cfg, mode, metrics, equity, start_value, views)]
    parts.append("<div class='cards'>" + "".join(_card(v) for v in views) + "</div>")
    parts.append(_combined_box(metrics, views))
    if len(equity) > 1:
        parts.append(_curves(views, equity, start_value, mode))
    for index, view in enumerate(views):
        parts.append(_playbook_section(view, metrics, index))
    if len(equity) > 1:
        parts.append("<h2>Monthly returns of the combined book</h2>" + _pooled_caution(views)
                     + report_tables.heatmap_table(equity))
    groups = [(v.name, v.trades["pnl_pct"].to_numpy(dtype="float64"), charts.COLOURS[i % len(charts.COLOURS)])
              for i, v in enumerate(views)]
    parts.append("<h2>Distribution of trade returns</h2>" + charts.returns_histograms(groups))
    parts.append("<h2>Data and notes</h2>" + "".join(f"<p class='note'>{escape(n)}</p>" for n in notes))
    parts.append("<footer>Written by flowbot. Every figure is also in metrics.json; every trade in trades.csv, "
                 "every order in orders.csv.</footer></main></body></html>")
    return "\n".join(parts)


def _live_part(equity: pd.DataFrame, live_since) -> pd.DataFrame:
    """A paper run's equity from the moment it went live (the backfill warm-up is replayed history)."""
    if live_since is None or not len(equity):
        return equity
    times = pd.to_datetime(equity["time"], utc=True)
    return equity[times >= pd.Timestamp(live_since).tz_convert("UTC")].reset_index(drop=True)


def _page_header(cfg, mode: str, metrics: dict, equity: pd.DataFrame, start_value: float,
                 views: list[PlaybookView]) -> str:
    period = (f"{when(equity['time'].iloc[0], False)} to {when(equity['time'].iloc[-1], False)}"
              if len(equity) else "no sessions")
    live = " (from going live; the backfill warm-up is left out)" if mode == "paper" else ""
    playbooks = ", ".join(v.name for v in views)
    return (f"<header class='page'><h1>{escape(cfg.name)}</h1><span class='mode {escape(mode)}'>{escape(mode)}"
            f"</span></header><p class='sub'>{escape(period)}{live} · starting capital "
            f"{start_value:,.0f} · playbooks: {escape(playbooks)}</p>")


def _card(view: PlaybookView) -> str:
    f = view.figures
    cls = LABEL_CLASS.get(view.label, "")
    badge = f"<span class='badge {cls}'>{escape(view.label.upper() if view.label != USER else 'YOUR DATA')}</span>"
    warning = (f"<div class='warning {cls}'>{escape(LABEL_WARNING[view.label])}</div>"
               if view.label in LABEL_WARNING else "")
    years = (f"{count(f['years_traded'])} of {count(f['years_with_window'])}"
             if f["years_with_window"] is not None else count(f["years_traded"]))
    trades = f["trades"] or 0
    luck = p_value(f["p_value"])
    groups = {
        "Did it work": [("Mean trade", pct(f["mean_trade_pct"])), ("Median trade", pct(f["median_trade_pct"])),
                        ("P&L", fmt_money(f["pnl"]))],
        "How often": [("Trades", count(trades)), ("Years with a signal", years),
                      ("Hit rate", share(f["hit_rate_pct"]))],
        "Against what (mean per window)": [("Hold, in the years traded", pct(f["hold_traded_pct"])),
                                           ("Hold, every year", pct(f["hold_pct"])),
                                           ("Its side, every year", pct(f["unconditional_pct"]))],
        "How sure": [("Luck (p-value)", luck if luck != "–" else "– (not computed)")],
    }
    rows = "".join(f"<dt class='group'>{escape(group)}</dt>"
                   + "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in items)
                   for group, items in groups.items())
    caution = ""
    if f["luck_note"]:
        caution = f"<div class='caution'>{escape(f['luck_note'])}</div>"
    elif trades < FEW_TRADES:
        caution = (f"<div class='caution'>Only {trades} trade{'s' if trades != 1 else ''}: too few to tell a "
                   f"rule from luck.</div>")
    return (f"<section class='card {cls}'><h3>{escape(view.name)} {badge}</h3>"
            f"<div class='sub'>{escape(view.symbol)} · {'1-minute' if view.intraday else 'daily'} bars</div>"
            f"{warning}<p class='verdict'>{_verdict(f)}</p><dl class='figures'>{rows}</dl>{caution}</section>")


def _verdict(f: dict) -> str:
    """One sentence: the mean trade against holding the same windows."""
    mine, hold = f["mean_trade_pct"], f["hold_traded_pct"]
    if not f["trades"]:
        return "No trades: the filters never fired on this data."
    if mine is None or hold is None:
        return f"Mean trade {pct(mine)}; no hold comparison available."
    gap = mine - hold
    word = "ahead of" if round(gap, 2) > 0 else "behind" if round(gap, 2) < 0 else "level with"
    return (f"Mean trade {pct(mine)} against {pct(hold)} for holding the same windows: "
            f"<b>{word}</b> holding by {pct(abs(gap), colour=False).lstrip('+').rstrip('%')} points.")


def _pooled_caution(views: list[PlaybookView]) -> str:
    pooled = [v.name for v in views if v.label in (SYNTHETIC, PROXY)]
    if not pooled or len(views) < 2:
        return ""
    return (f"<div class='warning'>The combined book pools playbooks on labelled data "
            f"({escape(', '.join(pooled))}): read each playbook's own card, not the pooled figure.</div>")


def _combined_box(metrics: dict, views: list[PlaybookView]) -> str:
    items = [("Total return", pct(metrics.get("total_return_pct"))), ("CAGR", pct(metrics.get("cagr_pct"))),
             ("Sharpe", ratio(metrics.get("sharpe"))), ("Max drawdown", pct(metrics.get("max_drawdown_pct"))),
             ("Exposure", share(metrics.get("exposure_pct"))), ("Trades", count(metrics.get("trades"))),
             ("Hit rate", share(metrics.get("win_rate_pct"))),
             ("Profit factor", ratio(metrics.get("profit_factor")))]
    cells = "".join(f"<div><div class='sub'>{escape(k)}</div><b>{v}</b></div>" for k, v in items)
    return ("<h2>Combined book</h2>" + _pooled_caution(views)
            + f"<div class='box' style='display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));"
              f"gap:.6rem'>{cells}</div>")


def _curves(views: list[PlaybookView], equity: pd.DataFrame, start_value: float, mode: str) -> str:
    combined = pd.Series(equity["value"].to_numpy(dtype="float64"), index=naive_new_york(equity["time"]))
    first = combined.index[0]
    panels, drawdowns, exposure = [], [], []
    holds = []
    for i, view in enumerate(views):
        colour = charts.COLOURS[i % len(charts.COLOURS)]
        mine = pnl_curve(view, start_value)
        hold = hold_curve(view, start_value)
        if mode == "paper":
            mine, hold = mine[mine.index >= first], hold[hold.index >= first]
            hold = hold / hold.iloc[0] * start_value if len(hold) else hold
        panels.append({"title": f"{view.name} · {view.label}", "lines": [
            (view.name, mine, colour, False), (f"hold {view.symbol}", hold, charts.HOLD, True)]})
        drawdowns.append((view.name, mine, colour))
        exposure.append((view.name, exposure_points(view, combined), colour))
        if len(hold):
            holds.append(hold / start_value)
    bench = None
    if holds:
        mix = pd.concat(holds, axis=1).reindex(combined.index, method="ffill").ffill().fillna(1.0)
        bench = mix.mean(axis=1) * start_value
    panels.insert(0, {"title": "combined book", "lines": [
        ("combined", combined, "#1d232b", False),
        ("hold the instruments, equal parts", bench, charts.HOLD, True)]})
    drawdowns.insert(0, ("combined", combined, "#1d232b"))
    return ("<h2>Equity against holding the instrument</h2>" + charts.equity_panels(panels)
            + "<h2>Drawdown</h2>" + charts.drawdown_chart(drawdowns)
            + "<h2>Exposure over time</h2>" + charts.exposure_chart(exposure))


def _playbook_section(view: PlaybookView, metrics: dict, index: int) -> str:
    cls = LABEL_CLASS.get(view.label, "")
    badge = f"<span class='badge {cls}'>{escape(view.label.upper())}</span>"
    sources = "".join(f"<p class='note'>{escape(s)}</p>" for s in view.sources)
    charts_html = trade_charts.trade_charts(view)
    return (f"<h2 id='playbook-{index}'>{escape(view.name)} {badge}</h2>{sources}"
            f"<h3>Per year, in the playbook's window</h3>"
            f"<p class='note'>Hold the window: the instrument held long over the sessions the playbook could hold "
            f"that year; its side, every year: the playbook's direction over the same sessions without its filters. "
            f"Grey rows: no trade that year.</p>"
            + report_tables.per_year_table(view, metrics.get("per_year") or [])
            + (f"<h3>Every trade on its chart</h3>{charts_html}" if charts_html else "")
            + f"<h3>Trades ({len(view.trades)})</h3>" + report_tables.trades_table(view))
