"""report.html: one self-contained page (plots embedded as PNG data) that opens offline."""
from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)
import pandas as pd  # noqa: E402

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#222;max-width:1200px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}.note{color:#666;font-size:.85rem}
.neg{color:#b00}.pos{color:#070}img{max-width:100%}
"""


def render_report(title: str, notes: list[str], metrics: dict, equity: pd.DataFrame, trades: pd.DataFrame) -> str:
    """The whole page as a string: per playbook (own account, data label, sample size, luck), then trades."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{_e(title)}</h1>"]
    parts += [f"<p class='note'>{_e(n)}</p>" for n in notes]
    playbooks = metrics.get("playbooks")
    if playbooks is None:   # a paper session's metrics: one shared account
        parts.append("<h2>Summary</h2>" + _kv_table(metrics))
        if len(equity) > 1:
            parts.append("<h2>Equity and drawdown</h2>" + _img(_equity_plot(equity)))
    else:
        parts.append(f"<p class='note'>{_e(metrics.get('accounts', ''))}. Keys: {_e(metrics.get('metrics_doc', ''))}.</p>")
        parts.append("<h2>Playbooks</h2>" + _records_table([_headline(name, f) for name, f in playbooks.items()]))
        for name, f in playbooks.items():
            parts.append(f"<h2>{_e(name)} [{_e(f['data_label'])}]</h2>")
            parts += [f"<p class='neg'>warning: {_e(w)}</p>" for w in f["warnings"]]
            parts.append(_kv_table({**f["sample"], **f["performance"], "buy_and_hold_pct": f["buy_and_hold_pct"]}))
            luck = f["luck"]
            parts.append(f"<p class='note'>luck: p = {_fmt(luck['p_value'])} ({_e(luck['method'])}; "
                         f"{luck['draws']} {'combinations' if luck['exact'] else 'draws'})</p>")
            parts.append("<p class='note'>Against its windows (hold = the instrument held long over the span the "
                         "playbook could hold each window; unconditional = its side taken every window without its "
                         "filters):</p>" + _kv_table(f["against_windows"]))
            mine = equity[equity["strategy"] == name] if "strategy" in equity else equity
            if len(mine) > 1:
                parts.append(_img(_equity_plot(mine)))
            parts.append(f"<h3>{_e(name)} [{_e(f['data_label'])}] per year</h3>" + _records_table(f["per_year"]))
        combined = metrics.get("combined_non_synthetic")
        if combined:
            parts.append("<h2>Combined (non-synthetic playbooks only)</h2>" + _kv_table(combined))
    parts.append(f"<h2>Trades ({len(trades)})</h2>")
    parts.append(_records_table(trades.to_dict("records")) if len(trades) else "<p>No trades.</p>")
    repro = metrics.get("reproducibility")
    if repro:
        parts.append("<h2>Reproducibility</h2>" + _kv_table(repro))
        parts.append(_records_table([{k: (v if not isinstance(v, list) else "; ".join(
            f"{x['path']} sha256 {x['sha256']}" for x in v)) for k, v in row.items()} for row in repro["data_files"]]))
    parts.append("</body></html>")
    return "\n".join(parts)


def _headline(name: str, f: dict) -> dict:
    perf, sample, against = f["performance"], f["sample"], f["against_windows"]
    return {"playbook": name, "data": f["data_label"], "trades": sample["trades"],
            "windows traded": f"{sample['windows_traded']}/{sample['windows']}",
            "net P&L": perf.get("net_pnl"), "return % (own account)": perf.get("total_return_pct"),
            "mean trade %": against["trade_return_mean_pct"], "hold / window %": against["hold_window_mean_pct"],
            "unconditional / window %": against["unconditional_window_mean_pct"], "p (luck)": f["luck"]["p_value"],
            "max drawdown %": perf.get("max_drawdown_pct"), "exposure %": perf.get("exposure_pct")}


def _e(text) -> str:
    return html.escape(str(text))


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, float):
        cls = " class='neg'" if value < 0 else ""
        return f"<span{cls}>{value:,.2f}</span>"
    return _e(value)


def _kv_table(values: dict) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_fmt(v)}</td></tr>" for k, v in values.items()
                   if not isinstance(v, (dict, list)))
    return f"<table>{rows}</table>"


def _records_table(records: list[dict]) -> str:
    if not records:
        return "<p>None.</p>"
    columns = list(records[0])
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(c))}</td>" for c in columns) + "</tr>" for r in records)
    return f"<table><tr>{head}</tr>{body}</table>"


def _equity_plot(equity: pd.DataFrame) -> bytes:
    times = pd.to_datetime(equity["time"], utc=True).dt.tz_convert("America/New_York").dt.tz_localize(None)
    values = equity["value"].astype(float)
    drawdown = (values / values.cummax() - 1.0) * 100.0
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot(times, values, color="#1f5fa8", linewidth=1)
    top.set_ylabel("equity")
    top.grid(alpha=0.3)
    bottom.fill_between(times, drawdown, 0, color="#b00", alpha=0.4, linewidth=0)
    bottom.set_ylabel("drawdown %")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def _img(png: bytes) -> str:
    return f"<img alt='plot' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
