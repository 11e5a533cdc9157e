"""report.html of a sweep: one self-contained page (plots embedded as PNG data) that opens offline.

Same style as the run report (``runner.report.formatting``); plots are
matplotlib ``Figure`` objects on the Agg canvas (``runner.report.charts``),
imported only when the page is written.

Sections: the best run; the objective against each parameter; a heatmap of the
first two parameters; per-year stability of the top runs; walk-forward
in-sample against out-of-sample; the top runs as a table.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from runner.report.charts import date_axis, new_figure, png
from runner.report.formatting import STYLE, escape as _e, friendly, records_table as _records_table
from runner.report.run_folder import write_text

TOP = 5


def write_report(path, plan, rows: list[dict], best: dict | None, result) -> None:
    write_text(path, render(plan, rows, best, result))


def render(plan, rows: list[dict], best: dict | None, result) -> str:
    from runner.optimize.ranking import ranked_rows

    sweep = plan.sweep
    spec = sweep.spec
    title = f"flowbot optimize: {sweep.name}"
    ranked = ranked_rows(plan, rows)
    ok = [r for r in rows if r.get("status") == "ok"]
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{_e(title)}</title>",
             f"<style>{STYLE}</style></head><body><main><header class='page'><h1>{_e(sweep.name)}</h1>"
             f"<span class='mode'>optimize</span></header>"]
    constraints = "; ".join(c.describe() for c in spec.constraints) or "none"
    parts.append(f"<p class='note'>sweep {_e(sweep.path)} on base config {_e(sweep.base_path)}; search "
                 f"{_e(spec.search.method)}; objective {_e(plan.metric)} ({_e(spec.objective.direction)}) of "
                 f"{_e(_measured_on(sweep))} on its own account of broker.cash, as a backtest runs it; "
                 f"constraints: {_e(constraints)}; {len(rows)} runs, {len(ranked)} met the constraints, "
                 f"{len(rows) - len(ok)} failed.</p>")
    parts += [f"<p class='note'>{_e(n)}</p>" for n in [*sweep.notes, *result.notes]]
    trust = getattr(result, "trust", None)
    if trust:
        parts.append(_trust_banner(trust))

    parts.append("<h2>Best run</h2>")
    if best is None:
        parts.append("<p>No run met the constraints; no best.yaml was written.</p>")
    else:
        shown = {"run": best["run"], **{c: best.get(c) for c in plan.param_columns}, "objective": best["objective"],
                 **{m: best.get(m) for m in ("total_return_pct", "cagr_pct", "sharpe", "max_drawdown_pct", "trades",
                                             "win_rate_pct", "profit_factor")}}
        parts.append(_records_table([shown]))
        if trust:
            parts.append(_trust_section(trust))
        parts.append("<p class='note'>best.yaml holds this run's complete config: "
                     "<code>flowbot backtest -c best.yaml</code>.</p>")

    if ok:
        parts.append(f"<h2>{_e(friendly(plan.metric))} against each parameter</h2>")
        parts.append("<p class='note'>each dot is a run; grey crosses failed the constraints; the line joins "
                     "the best run at each value.</p>")
        parts.append(_img(_objective_plots(plan, ok)))
        if len(plan.param_columns) >= 2:
            heat = _heatmap(plan, ok)
            if heat is not None:
                a, b = plan.param_columns[:2]
                parts.append(f"<h2>Heatmap: {_e(a)} × {_e(b)}</h2>")
                parts.append(f"<p class='note'>the best {_e(plan.metric)} over the other parameters "
                             f"for each pair of values. A blank cell: no run with that pair of values met the "
                             f"constraints ({_e(constraints)}), produced the objective (e.g. no trade, so no "
                             f"Sharpe), or was searched at all (random and optuna searches sample pairs).</p>"
                             + _img(heat))

    if ranked:
        parts.append(f"<h2>Per-year stability of the top {min(TOP, len(ranked))} runs</h2>")
        parts.append("<p class='note'>portfolio return per calendar year, percent. A parameter set that wins "
                     "on one or two years only is a fit to those years.</p>")
        parts.append(_img(_year_plot(ranked[:TOP])))
        parts.append(_records_table(_year_table(plan, ranked[:TOP])))

    if result.walk_forward:
        parts.append(_walk_forward_section(plan, result.walk_forward, trust["data"] if trust else ""))

    parts.append(f"<h2>Top runs ({min(20, len(ranked))} of {len(ranked)})</h2>")
    columns = ["run", *plan.param_columns, "objective", "total_return_pct", "cagr_pct", "sharpe", "sortino",
               "max_drawdown_pct", "trades", "win_rate_pct", "profit_factor", "exposure_pct"]
    parts.append(_records_table([{c: r.get(c) for c in columns} for r in ranked[:20]], tall=True))
    parts.append("<p class='note'>every run is in results.csv.</p>")
    provenance = getattr(result, "provenance", None)
    if provenance:
        from runner.report.html import reproducibility_section

        parts.append(reproducibility_section(provenance)
                     + f"<p class='note'>sweep file SHA-256 {_e(provenance.get('sweep_sha256'))}; the config hash is "
                       f"the base config's (each run's config is the base with the run's values).</p>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _numeric(values: list) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values if v is not None)


def _positions(values: list) -> tuple[list, list | None]:
    """x positions for a parameter's values; categorical values get indices and tick labels."""
    if _numeric(values) and None not in values:
        return values, None
    labels = sorted({str(v) for v in values})
    return [labels.index(str(v)) for v in values], labels


def _objective_plots(plan, rows: list[dict]) -> str:
    n = len(plan.param_columns)
    cols = min(n, 3)
    nrows = math.ceil(n / cols)
    fig, axes = new_figure(min(10.6, 3.6 * cols), 2.9 * nrows, nrows, cols)
    y = [r.get("objective") for r in rows]
    feasible = [bool(r.get("feasible")) for r in rows]
    for i, column in enumerate(plan.param_columns):
        ax = axes[i // cols][i % cols]
        x, labels = _positions([r.get(column) for r in rows])
        xs_ok = [a for a, b, f in zip(x, y, feasible) if f and b is not None]
        ys_ok = [b for a, b, f in zip(x, y, feasible) if f and b is not None]
        xs_bad = [a for a, b, f in zip(x, y, feasible) if not f and b is not None]
        ys_bad = [b for a, b, f in zip(x, y, feasible) if not f and b is not None]
        ax.scatter(xs_ok, ys_ok, s=14, color="#1f5fa8", alpha=0.6)
        ax.scatter(xs_bad, ys_bad, s=14, color="#999", marker="x", alpha=0.6)
        if xs_ok:
            frame = pd.DataFrame({"x": xs_ok, "y": ys_ok}).groupby("x")["y"]
            line = frame.max() if plan.maximize else frame.min()
            ax.plot(line.index, line.to_numpy(), color="#b00", linewidth=1)
        if labels:
            ax.set_xticks(range(len(labels)), labels, rotation=30, fontsize=8)
        ax.set_xlabel(friendly(column), fontsize=9)
        ax.set_ylabel(friendly(plan.metric), fontsize=9)
    for j in range(n, nrows * cols):
        axes[j // cols][j % cols].set_visible(False)
    return _png(fig)


def _heatmap(plan, rows: list[dict]) -> str | None:
    a, b = plan.param_columns[:2]
    data = [(r.get(a), r.get(b), r.get("objective")) for r in rows if r.get("feasible") and r.get("objective") is not None]
    if not data:
        return None
    frame = pd.DataFrame(data, columns=["a", "b", "y"])
    frame["a"], frame["b"] = frame["a"].astype(str), frame["b"].astype(str)
    if frame["a"].nunique() > 30 or frame["b"].nunique() > 30:
        return None   # continuous ranges (random, optuna): the scatter plots say it better
    grouped = frame.groupby(["b", "a"])["y"]
    table = (grouped.max() if plan.maximize else grouped.min()).unstack("a")
    table = table.reindex(index=_sorted_labels(table.index), columns=_sorted_labels(table.columns))
    fig, axes = new_figure(min(10.6, 2.0 + 0.8 * len(table.columns)), min(9.0, 1.4 + 0.45 * len(table.index)))
    ax = axes[0, 0]
    ax.grid(False)
    image = ax.imshow(table.to_numpy(dtype=float), cmap="RdYlGn" if plan.maximize else "RdYlGn_r", aspect="auto",
                      origin="lower")
    ax.set_xticks(range(len(table.columns)), table.columns, fontsize=8)
    ax.set_yticks(range(len(table.index)), table.index, fontsize=8)
    ax.set_xlabel(friendly(a))
    ax.set_ylabel(friendly(b))
    for (i, j), value in np.ndenumerate(table.to_numpy(dtype=float)):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, label=friendly(plan.metric))
    return _png(fig)


def _sorted_labels(labels) -> list:
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


def _year_columns(row: dict) -> list[str]:
    return [k for k in row if k.startswith("year.")]


def _year_plot(top: list[dict]) -> str:
    years = [c[5:] for c in _year_columns(top[0])]
    fig, axes = new_figure(10.6, 3.4)
    ax = axes[0, 0]
    width = 0.8 / len(top)
    x = np.arange(len(years))
    for i, row in enumerate(top):
        values = [row.get(f"year.{y}") or 0.0 for y in years]
        ax.bar(x + i * width - 0.4 + width / 2, values, width, label=f"run {row['run']}")
    ax.set_xticks(x, years, rotation=60, fontsize=8)
    ax.axhline(0, color="#444", linewidth=0.8)
    ax.set_ylabel("return %")
    ax.legend(fontsize=8, ncols=len(top), frameon=False)
    return _png(fig)


def _year_table(plan, top: list[dict]) -> list[dict]:
    records = []
    for row in top:
        years = [row.get(c) for c in _year_columns(row) if row.get(c) is not None]
        active = [y for y in years if abs(y) > 1e-9]
        records.append({"run": row["run"], **{c: row.get(c) for c in plan.param_columns},
                        "years": len(years), "years_with_pnl": len(active),
                        "positive_years": sum(1 for y in active if y > 0),
                        "mean_year_pct": float(np.mean(years)) if years else None,
                        "worst_year_pct": min(years) if years else None,
                        "best_year_pct": max(years) if years else None,
                        "best_year_share_pct": _best_share(years)})
    return records


def _best_share(years: list[float]) -> float | None:
    gains = [y for y in years if y > 0]
    return 100.0 * max(gains) / sum(gains) if gains else None


def _walk_forward_section(plan, wf: dict, data: str = "") -> str:
    s = wf["summary"]
    parts = [f"<h2>Walk-forward: in-sample against out-of-sample{' · ' + _e(data) if data else ''}</h2>",
             f"<p class='note'>each fold chooses the run with the best {_e(plan.metric)} on its training years "
             f"(constraints checked there) and is judged on the next year(s). Out of sample stitched over "
             f"{_e(s['test_years'])}: {_e(plan.metric)} {_fmt(s['oos_stitched'])}, total return "
             f"{_fmt(s['oos_total_return_pct'])}% ({_fmt(s['oos_trades'])} trades); in-sample mean "
             f"{_fmt(s['is_mean'])}. Hindsight (run {_e(s['hindsight_run'])}, best over the whole period, over the "
             f"same test years): {_fmt(s['hindsight'])}, total return {_fmt(s['hindsight_total_return_pct'])}%. "
             f"Years are the playbook's window years, as in a backtest's per-year table: a trade counts in the "
             f"year of the window it entered in (january_snapback's December purchase in that December's year, "
             f"although it is sold in January), and each fold's equity runs to the close ending its last "
             f"window (docs/metrics.md).</p>"]
    records = []
    for f in wf["folds"]:
        params = ", ".join(f"{k}={v}" for k, v in (f["params"] or {}).items()) or "no run met the constraints"
        records.append({"data": data, "train": f["train"], "test": f["test"], "run": f["run"], "chosen": params,
                        f"in-sample {friendly(plan.metric)}": f["is"],
                        f"out-of-sample {friendly(plan.metric)}": f["oos"],
                        "OOS return %": f["oos_return_pct"], "OOS trades": f["oos_trades"]})
    parts.append(_records_table(records))
    if wf["oos_equity"] is not None and len(wf["oos_equity"]) > 1:
        parts.append(_img(_wf_plot(plan, wf)))
    return "\n".join(parts)


def _wf_plot(plan, wf: dict) -> str:
    fig, axes = new_figure(10.6, 3.4, 1, 2, gridspec_kw={"width_ratios": [3, 2]})
    top, bottom = axes[0]
    for equity, label, color in ((wf["oos_equity"], "out of sample (stitched)", "#1f5fa8"),
                                 (wf["hindsight_equity"], "hindsight best run", "#999")):
        if equity is None or len(equity) < 2:
            continue
        times = pd.to_datetime(equity["time"], utc=True).dt.tz_convert("America/New_York").dt.tz_localize(None)
        top.plot(times, equity["value"], label=label, color=color, linewidth=1)
    top.set_ylabel("growth of 1")
    date_axis(top)
    top.legend(fontsize=8, frameon=False)
    folds = [f for f in wf["folds"] if f["is"] is not None]
    x = np.arange(len(folds))
    bottom.bar(x - 0.2, [f["is"] for f in folds], 0.4, label="in-sample (train)", color="#999")
    bottom.bar(x + 0.2, [f["oos"] or 0.0 for f in folds], 0.4, label="out-of-sample (test)", color="#1f5fa8")
    bottom.set_xticks(x, [f["test"] for f in folds], rotation=60, fontsize=8)
    bottom.set_ylabel(friendly(plan.metric))
    bottom.axhline(0, color="#444", linewidth=0.8)
    bottom.legend(fontsize=8, frameon=False)
    return _png(fig)


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else _e(value)


def _png(fig) -> str:
    return png(fig, dpi=90)


def _img(uri: str) -> str:
    return f"<figure><img alt='plot' src='{uri}'></figure>"


def _measured_on(sweep) -> str:
    """The playbook a sweep runs (sweep_config: one; the others of its base are left out, with a note)."""
    entries = [s for s in sweep.base_raw.get("strategies") or [] if isinstance(s, dict) and s.get("enabled", True)]
    return ", ".join(str(s.get("label") or s.get("name")) for s in entries) or "no playbook"


def _trust_banner(trust: dict) -> str:
    cls = "warning" if trust["synthetic"] else "warning proxy" if "PROXY" in trust["data"] else "note"
    return f"<div class='{cls}'>Data: {_e(trust['data'])}</div>"


def _trust_section(trust: dict) -> str:
    from runner.optimize.trust import trust_lines

    lines = "".join(f"<p class='note'>{_e(line)}</p>" for line in trust_lines(trust)[1:])
    warnings = "".join(f"<div class='caution'>{_e(w)}</div>" for w in trust["warnings"])
    return f"<h3>How far the winner can be trusted</h3>{lines}{warnings}"
