"""The pressure report as one offline HTML page, with the year-to-date drift against past years."""
from __future__ import annotations

import base64
import html
import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from runner.pressure.calendar_table import notes

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#222;max-width:1100px}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem}
th{background:#f4f4f4}.note{color:#666;font-size:.85rem}.ok{color:#070}.no{color:#a60}img{max-width:100%}
"""


def _e(text) -> str:
    return html.escape(str(text))


def _table(columns: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def drift_chart(paths: dict[int, list], year: int, target: float) -> bytes:
    """Year-to-date drift by session of the year: past years thin, ``year`` bold."""
    figure = Figure(figsize=(10, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for y, values in sorted(paths.items()):
        xs = list(range(1, len(values) + 1))
        if y == year:
            axes.plot(xs, values, color="#c0392b", linewidth=2.2, label=str(y), zorder=3)
        else:
            axes.plot(xs, values, color="#7f8c8d", linewidth=0.7, alpha=0.5)
    axes.axhline(0, color="#333", linewidth=0.8)
    axes.set_xlabel("session of the year")
    axes.set_ylabel(f"drift of {target:.0%}/{1 - target:.0%}, pts")
    axes.set_title(f"Year-to-date drift: {year} (red) against {len(paths) - (year in paths)} earlier years (grey)")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return buffer.getvalue()


def _pct(value) -> str:
    return "n/a" if value is None else f"{value * 100:+.2f}%"


def render_page(report: dict, paths: dict[int, list] | None) -> str:
    title = f"flowbot pressure {report['date']}"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
             f"<style>{STYLE}</style></head><body><h1>{_e(title)}</h1>"]
    if report.get("note"):
        parts.append(f"<p class='note'>{_e(report['note'])}</p>")
    parts += [f"<p class='note'>{_e(name)}: {_e(label)}</p>" for name, label in report["labels"].items()]
    parts.append("<h2>Period-to-date total returns</h2>")
    parts.append(_table(["leg", "year", "quarter", "month"],
                        [[_e(leg), *(_pct(v[p]) for p in ("year", "quarter", "month"))]
                         for leg, v in report["returns"].items()]))
    if report.get("mixes"):
        parts.append(f"<h2>Drifted weight and implied flow per ${report['aum'] / 1e12:g}T</h2>")
        parts.append(_table(["mix", "period", "weight", "drift, pts", "flow, $bn (+ = sell equities)"],
                            [[_e(r["mix"]), _e(r["period"]), "n/a" if r["weight"] is None else f"{r['weight']:.2%}",
                              "n/a" if r["drift_pts"] is None else f"{r['drift_pts']:+.2f}",
                              "n/a" if r["flow"] is None else f"{r['flow'] / 1e9:+,.1f}"] for r in report["mixes"]]))
        history = report["history"]
        if history.get("today") is not None:
            parts.append(f"<p>Today {history['today']:+.2f} pts: percentile {history['percentile_all_sessions']} "
                         f"of {history['sessions']} sessions since {_e(history['first'])}; on this date, "
                         f"higher in {_e(', '.join(map(str, history['years_higher'])) or 'no year')}.</p>")
        if paths:
            png = base64.b64encode(drift_chart(paths, int(report["date"][:4]), history["target"])).decode()
            parts.append(f"<img alt='drift through the year' src='data:image/png;base64,{png}'>")
    cal = report["calendar"]
    parts.append("<h2>Calendar</h2>")
    opex = ", ".join(o["date"] + (" (quarterly)" if o["quarterly"] else "") for o in cal["opex_to_year_end"])
    parts.append(f"<p>Sessions left after {_e(report['date'])}: month {cal['sessions_left']['month']} (to "
                 f"{_e(cal['ends']['month'])}), quarter {cal['sessions_left']['quarter']} (to {_e(cal['ends']['quarter'])}), "
                 f"year {cal['sessions_left']['year']} (to {_e(cal['ends']['year'])}). OPEX this month "
                 f"{_e(cal['opex']['month'])}, in the quarter-end month {_e(cal['opex']['quarter_end_month'])}, "
                 f"December {_e(cal['opex']['december'])}; OPEX to year end: {_e(opex or 'none')}. Early closes to "
                 f"year end: {_e(', '.join(cal['early_closes_to_year_end']) or 'none')}.</p>")
    parts.append(_table(["session", "close", "MOC cutoff NYSE", "MOC cutoff Nasdaq", "to month end", "to quarter end",
                         "to year end", "note"],
                        [[s["date"], s["close"], s["moc_cutoff_nyse"], s["moc_cutoff_nasdaq"], s["sessions_to_month_end"],
                          s["sessions_to_quarter_end"], s["sessions_to_year_end"], _e(notes(s))]
                         for s in cal["sessions"]]))
    if report["signals"]:
        parts.append("<h2>Signals</h2>")
        parts.append(_table(["signal", "value", "passes"],
                            [[_e(r["signal"]), _e(r["text"]), _verdict(r["passes"])] for r in report["signals"]]))
    for row in report.get("playbooks", []):
        state = row["status"]
        parts.append(f"<h2>{_e(row['playbook'])} ({_e(row['symbol'])}): {_e(state)}</h2>")
        if row["conditions"]:
            parts.append(_table(["condition", "value", "threshold", "met", "note"],
                                [[_e(c["condition"]), "" if c["value"] is None else f"{c['value']:+.2f}",
                                  _e(c["threshold"]), _verdict(c["ok"]) + ("" if c["required"] else " (one of)"),
                                  _e(c.get("note", ""))] for c in row["conditions"]]))
    parts.append("</body></html>")
    return "\n".join(parts)


def _verdict(ok: bool) -> str:
    return "<span class='ok'>yes</span>" if ok else "<span class='no'>no</span>"
