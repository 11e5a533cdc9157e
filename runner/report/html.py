"""report.html of a backtest or paper run: one self-contained page (inline CSS, PNG data) that opens offline.

It answers per playbook, each on its own account and its own data: did it
work, against what, how often, how sure are we. A card per playbook (its data
label as a badge and, for SYNTHETIC or PROXY data, a warning), its equity
against holding its instrument, drawdown, exposure, a chart per trade,
per-year rows in its windows, its monthly returns and the distribution of
trade returns; the reproducibility record at the end. No figure pools a
SYNTHETIC playbook with others.
"""
from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from runner.report import charts, png_workers, report_tables, trade_charts
from runner.report.formatting import STYLE, count, escape, naive_new_york, p_value, pct, share, when
from runner.report.formatting import money as fmt_money
from runner.report.playbook_view import (PROXY, SYNTHETIC, USER, PlaybookView, build_views, exposure_points,
                                         hold_curve, label_class, pnl_curve)

LABEL_CLASS = {SYNTHETIC: "synthetic", PROXY: "proxy", USER: "user"}
LABEL_WARNING = {
    SYNTHETIC: "SYNTHETIC data: generated prices. These figures show the mechanics and prove nothing.",
    PROXY: "Uses PROXY data (a stand-in series built from other data): read the figures with care.",
}


def render_report(cfg, result, notes: list[str], mode: str | None = None,
                  charts_ahead: dict[str, str] | None = None) -> str:
    """The whole page for a finished run (``result``: a BacktestResult); ``mode`` backtest or paper.
    ``charts_ahead``: per playbook name, its trade charts' placeholder from ``trade_charts_ahead``."""
    metrics = result.metrics
    mode = mode or metrics.get("mode") or "backtest"
    equity = _live_part(result.equity, metrics.get("live_since") if mode == "paper" else None)
    views = build_views(cfg, metrics, result.trades, result.orders, result.bars)
    accounts = {v.name: _own_account(equity, v, cfg, mode) for v in views}
    # The figures with the most panels first: inside png_workers.parallel_pngs they are made in children
    # while the rest of the page is built, and the longest should start first.
    ahead = charts_ahead or {}
    trade_figures = {i: ahead[views[i].name] if views[i].name in ahead else
                     png_workers.deferred(_trade_charts_part, trade_charts.charted(views[i]))
                     for i in sorted(range(len(views)), key=lambda i: -len(views[i].trades))}
    title = f"flowbot {mode}: {cfg.name}"
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{escape(title)}</title>"
             f"<style>{STYLE}</style></head><body><main>",
             _page_header(cfg, mode, equity, views), _label_banner(views)]
    parts.append(f"<p class='note'>{escape(_accounts_note(metrics, cfg))}</p>")
    parts.append("<div class='cards'>" + "".join(_card(v) for v in views) + "</div>")
    parts.append(_combined_box(metrics))
    if any(len(a) > 1 for a in accounts.values()):
        parts.append(_curves(views, accounts))
    for index, view in enumerate(views):
        parts.append(_playbook_section(view, accounts[view.name], index, trade_figures[index]))
    groups = [(f"{v.name} · {v.label}", v.trades["pnl_pct"].to_numpy(dtype="float64"),
               charts.COLOURS[i % len(charts.COLOURS)]) for i, v in enumerate(views)]
    parts.append("<h2>Distribution of trade returns</h2>" + png_workers.deferred(charts.returns_histograms, groups))
    parts.append(reproducibility_section(metrics.get("reproducibility")))
    parts.append("<h2>Data and notes</h2>" + "".join(f"<p class='note'>{escape(n)}</p>" for n in notes))
    parts.append("<footer>Written by flowbot. Every figure is also in metrics.json (keys in docs/metrics.md); "
                 "every trade in trades.csv, every order in orders.csv.</footer></main></body></html>")
    return "\n".join(parts)


def _live_part(equity: pd.DataFrame, live_since) -> pd.DataFrame:
    """A paper run's equity from the moment it went live (the backfill warm-up is replayed history)."""
    if live_since is None or not len(equity):
        return equity
    times = pd.to_datetime(equity["time"], utc=True)
    return equity[times >= pd.Timestamp(live_since).tz_convert("UTC")].reset_index(drop=True)


def _own_account(equity: pd.DataFrame, view: PlaybookView, cfg, mode: str) -> pd.DataFrame:
    """The playbook's own account (time, value) from equity.csv; a shared (paper) account: its P&L marked
    at the session closes on top of the account's start."""
    if "strategy" in equity:
        mine = equity[equity["strategy"] == view.name]
        return mine[["time", "value"]].reset_index(drop=True)
    start = float(equity["value"].iloc[0]) if len(equity) else float(cfg.broker.cash)
    curve = pnl_curve(view, start)
    if mode == "paper" and len(equity) and len(curve):
        curve = curve[curve.index >= naive_new_york(equity["time"])[0].normalize()]
    return pd.DataFrame({"time": curve.index.tz_localize("America/New_York"), "value": curve.to_numpy()})


def _accounts_note(metrics: dict, cfg) -> str:
    note = metrics.get("accounts") or ""
    return (f"Accounts: {note} (broker.cash {cfg.broker.cash:,.0f})." if note else "")


def _page_header(cfg, mode: str, equity: pd.DataFrame, views: list[PlaybookView]) -> str:
    period = (f"{when(equity['time'].min(), False)} to {when(equity['time'].max(), False)}"
              if len(equity) else "no sessions")
    live = " (from going live; the backfill warm-up is left out)" if mode == "paper" else ""
    playbooks = ", ".join(f"{v.name} [{v.label}]" for v in views)
    return (f"<header class='page'><h1>{escape(cfg.name)}</h1><span class='mode {escape(mode)}'>{escape(mode)}"
            f"</span></header><p class='sub'>{escape(period)}{live} · capital per playbook "
            f"{cfg.broker.cash:,.0f} · playbooks: {escape(playbooks)}</p>")


def _label_banner(views: list[PlaybookView]) -> str:
    """At the top of the page: which playbooks run on SYNTHETIC or PROXY data."""
    out = []
    for wanted in (SYNTHETIC, PROXY):
        names = [v.name for v in views if label_class(v.label) == wanted]
        if names:
            out.append(f"<div class='warning {LABEL_CLASS[wanted]}'>{escape(', '.join(names))}: "
                       f"{escape(LABEL_WARNING[wanted])}</div>")
    return "".join(out)


def _badge(view: PlaybookView) -> str:
    cls = LABEL_CLASS.get(label_class(view.label), "")
    return f"<span class='badge {cls}'>{escape(view.label)}</span>"


def _card(view: PlaybookView) -> str:
    f = view.figures
    kind = label_class(view.label)
    cls = LABEL_CLASS.get(kind, "")
    warning = f"<div class='warning {cls}'>{escape(LABEL_WARNING[kind])}</div>" if kind in LABEL_WARNING else ""
    years = (f"{count(f['years_traded'])} of {count(f['years_covered'])}"
             if f["years_covered"] is not None else count(f["years_traded"]))
    windows = (f"{count(f['windows_traded'])} of {count(f['windows'])}" if f["windows"] is not None else "–")
    luck = p_value(f["p_value"])
    draws = (f"Luck: the share of {'all' if f['luck_exact'] else ''} {f['luck_draws']:,} "
             f"{'combinations' if f['luck_exact'] else 'random draws'} of as many windows, taken at random, whose "
             f"mean return on its side is at least the mean trade." if f["luck_draws"] else "")
    groups = {
        "Did it work (own account)": [("Mean trade", pct(f["mean_trade_pct"])),
                                      ("Median trade", pct(f["median_trade_pct"])),
                                      ("P&L", fmt_money(f["pnl"])), ("Return", pct(f["return_pct"])),
                                      ("Max drawdown", pct(f["max_drawdown_pct"])),
                                      ("Exposure", share(f["exposure_pct"]))],
        "How often": [("Trades", count(f["trades"] or 0)), ("Years with a signal", years),
                      ("Windows traded", windows), ("Hit rate", share(f["hit_rate_pct"]))],
        "Against what (mean per window)": [("Hold, windows traded", pct(f["hold_traded_pct"])),
                                           ("Hold, every window", pct(f["hold_pct"])),
                                           ("Its side, every window", pct(f["unconditional_pct"])),
                                           ("Mean trade vs hold", _points(f["vs_hold_pp"])),
                                           ("Mean trade vs its side", _points(f["vs_unconditional_pp"]))],
        "How sure": [("Luck (p-value)", luck if luck != "–" else "– (not computed)")],
    }
    rows = "".join(f"<dt class='group'>{escape(group)}</dt>"
                   + "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in items)
                   for group, items in groups.items())
    cautions = (f"<p class='note'>{escape(draws.replace('  ', ' '))}</p>" if draws else "") + "".join(
        f"<div class='caution'>{escape(w)}</div>" for w in f["warnings"] if not w.startswith(("SYNTHETIC", "PROXY")))
    return (f"<section class='card {cls}'><h3>{escape(view.name)} {_badge(view)}</h3>"
            f"<div class='sub'>{escape(view.symbol)} · {'1-minute' if view.intraday else 'daily'} bars</div>"
            f"{warning}<p class='verdict'>{_verdict(f)}</p><dl class='figures'>{rows}</dl>{cautions}</section>")


def _points(value) -> str:
    return pct(value).replace("%", " pts")


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


def _combined_box(metrics: dict) -> str:
    """The only figure over several playbooks: net P&L summed over the separate accounts of the
    playbooks NOT on synthetic data."""
    combined = metrics.get("combined_non_synthetic")
    if not combined:
        return ""
    left_out = combined.get("left_out_synthetic") or []
    if not combined.get("playbooks"):
        return (f"<h2>Together</h2><p class='note'>No combined figure: every playbook runs on SYNTHETIC data "
                f"({escape(', '.join(left_out))}).</p>")
    items = [("Playbooks", escape(", ".join(combined["playbooks"]))), ("Trades", count(combined["trades"])),
             ("Net P&L, summed over their accounts", fmt_money(combined["net_pnl"]))]
    cells = "".join(f"<div><div class='sub'>{escape(k)}</div><b>{v}</b></div>" for k, v in items)
    note = (f"<p class='note'>Left out as SYNTHETIC: {escape(', '.join(left_out))}. Each playbook has its own "
            f"account; there is no pooled return, Sharpe or drawdown.</p>" if left_out else
            "<p class='note'>Each playbook has its own account; there is no pooled return, Sharpe or drawdown.</p>")
    return ("<h2>Together, non-synthetic playbooks only</h2>"
            f"<div class='box' style='display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));"
            f"gap:.6rem'>{cells}</div>{note}")


def _series(account: pd.DataFrame) -> pd.Series:
    return pd.Series(account["value"].to_numpy(dtype="float64"), index=naive_new_york(account["time"]))


def _curves(views: list[PlaybookView], accounts: dict[str, pd.DataFrame]) -> str:
    panels, drawdowns, exposure = [], [], []
    for i, view in enumerate(views):
        colour = charts.COLOURS[i % len(charts.COLOURS)]
        account = accounts[view.name]
        if len(account) < 2:
            continue
        mine = _series(account)
        hold = hold_curve(view, float(mine.iloc[0]))
        hold = hold[hold.index >= mine.index[0].normalize()]
        if len(hold):
            hold = hold / hold.iloc[0] * float(mine.iloc[0])
        panels.append({"title": f"{view.name} · {view.label}", "lines": [
            (view.name, mine, colour, False), (f"hold {view.symbol}", hold, charts.HOLD, True)]})
        drawdowns.append((f"{view.name} · {view.label}", mine, colour))
        exposure.append((f"{view.name} · {view.label}", exposure_points(view, mine), colour))
    return ("<h2>Equity against holding the instrument</h2>"
            "<p class='note'>Each playbook on its own account, against the same capital held in its "
            "instrument.</p>" + png_workers.deferred(charts.equity_panels, panels)
            + "<h2>Drawdown</h2>" + png_workers.deferred(charts.drawdown_chart, drawdowns)
            + "<h2>Exposure over time</h2>" + png_workers.deferred(charts.exposure_chart, exposure))


def trade_charts_ahead(strategy, trades: pd.DataFrame, orders: pd.DataFrame,
                       bars: dict[str, pd.DataFrame]) -> str | None:
    """One playbook's trade charts handed to the figure process as soon as its run ends, so that they are
    drawn on the other core while its metrics are computed and the next playbooks run: a placeholder for
    their HTML (resolved with the page), or None when no figure process runs. The same charts as
    ``render_report`` makes from the whole run: they read the view's trades, bars and parameters, which do
    not depend on the metrics (the view's label and card figures do, and are left out here)."""
    from runner.report import figure_server

    if not figure_server.running():
        return None
    alone = SimpleNamespace(active_strategies=lambda: [strategy])
    view, = build_views(alone, {}, trades, orders, bars)
    return figure_server.send(_trade_charts_part, (trade_charts.charted(view),))


def _trade_charts_part(view: PlaybookView) -> str:
    charts_html = trade_charts.trade_charts(view)
    return f"<h3>Every trade on its chart</h3>{charts_html}" if charts_html else ""


def _playbook_section(view: PlaybookView, account: pd.DataFrame, index: int, charts_part: str) -> str:
    sources = "".join(f"<p class='note'>{escape(s)}</p>" for s in view.sources)
    kind = label_class(view.label)
    warning = (f"<div class='warning {LABEL_CLASS[kind]}'>{escape(LABEL_WARNING[kind])}</div>"
               if kind in LABEL_WARNING else "")
    heat = report_tables.heatmap_table(account) if len(account) > 1 else "<p class='note'>No equity rows.</p>"
    return (f"<h2 id='playbook-{index}'>{escape(view.name)} {_badge(view)}</h2>{warning}{sources}"
            f"<h3>Per year, in the playbook's window</h3>"
            f"<p class='note'>Each trade sits in the row of the window it was taken in. Hold: the instrument held "
            f"long over the span the playbook could hold in each window (from its earliest possible fill to its "
            f"exit); its side: the playbook's direction over the same span without its filters; both the mean "
            f"over the year's windows. Grey rows: no trade in that year's windows.</p>"
            + report_tables.per_year_table(view)
            + charts_part
            + f"<h3>Trades ({len(view.trades)})</h3>" + report_tables.trades_table(view)
            + f"<h3>Monthly returns of its account [{escape(view.label)}]</h3>" + heat)


def reproducibility_section(record: dict | None) -> str:
    """The reproducibility record (runner.report.provenance.reproducibility) as a section of a page."""
    if not record:
        return ""
    rows = [("flowbot version", record.get("flowbot_version")), ("git commit", record.get("git_commit")),
            ("command line", record.get("command_line")), ("resolved config SHA-256", record.get("config_sha256")),
            ("engine", record.get("engine"))]
    body = "".join(f"<tr><td class='text'>{escape(k)}</td><td class='text'>{escape(v if v is not None else '–')}"
                   f"</td></tr>" for k, v in rows)
    files = []
    for source in record.get("data_files") or []:
        for f in source.get("files") or [{"path": "(none)", "sha256": None}]:
            files.append(f"<tr><td class='text'>{escape(source['playbook'])}</td><td class='text'>"
                         f"{escape(source['role'])}</td><td class='text'>{escape(source['label'])}</td>"
                         f"<td class='text'>{escape(f['path'])}</td><td class='text'>{escape(f['sha256'] or '–')}"
                         f"</td><td>{count(source['bars'])}</td></tr>")
    head = ("<tr><th class='text'>Playbook</th><th class='text'>Role</th><th class='text'>Label</th>"
            "<th class='text'>File</th><th class='text'>SHA-256</th><th>Bars</th></tr>")
    return ("<h2>Reproducibility</h2><div class='scroll'><table>" + body + "</table></div>"
            "<h3>Data files read</h3><div class='scroll'><table><thead>" + head + "</thead><tbody>"
            + "".join(files) + "</tbody></table></div>")
