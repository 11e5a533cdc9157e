"""Walk-forward analysis of a finished sweep: choose on each training window, judge on the next years.

Every run of the sweep covers the whole period, and its row carries the metrics
of each training and test window (computed by the worker from the run's
equity, starting from the close before the window; years are the playbook's window years, as in
the backtest's per-year figures: runner/optimize/folds.py). For each fold the run with
the best objective on the *training* window (the walk-forward constraints
checked on that window) is chosen; its *test* window is out of sample. The chosen runs' test
windows are stitched into one out-of-sample equity curve (daily returns
chained), shown next to the in-sample figures and next to the run that was
best over the whole period (hindsight), so overfitting shows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from runner.config import validate_config
from runner.data.load import load_run_bars
from runner.report.metrics import performance
from runner.optimize.ranking import best_row
from runner.optimize.folds import FoldSlicer, run_windows
from runner.optimize.runs import data_key, run_once


def walk_forward(plan, rows: list[dict], bars: dict[str, pd.DataFrame]) -> dict:
    """Per-fold choices and the stitched out-of-sample record (see the module docstring)."""
    metric = plan.metric
    constraints = plan.sweep.spec.walk_forward.constraints
    sign = -1 if plan.maximize else 1
    folds = []
    for fold in plan.folds:
        label = fold["label"]
        train_key = f"wf.{label}.train.{metric}"
        candidates = [r for r in rows if r.get("status") == "ok" and r.get(train_key) is not None
                      and all(c.holds(r.get(f"wf.{label}.train.{c.metric}")) for c in constraints)]
        chosen = min(candidates, key=lambda r: (sign * r[train_key], r["run"])) if candidates else None
        entry = {"label": label, "train": f"{fold['train'][0]}-{fold['train'][1]}", "test": label,
                 "run": None, "params": None, "is": None, "oos": None, "oos_return_pct": None, "oos_trades": None}
        if chosen is not None:
            entry.update(run=chosen["run"], params={c: chosen.get(c) for c in plan.param_columns},
                         **{"is": chosen[train_key], "oos": chosen.get(f"wf.{label}.test.{metric}"),
                            "oos_return_pct": chosen.get(f"wf.{label}.test.total_return_pct"),
                            "oos_trades": chosen.get(f"wf.{label}.test.trades")})
        folds.append(entry)

    by_run = {r["run"]: r for r in rows}
    equities = _rerun({f["run"] for f in folds if f["run"] is not None}, plan, by_run, bars)
    oos_equity, oos_trades = _stitch([(fold, f["run"]) for fold, f in zip(plan.folds, folds)], equities)
    hindsight_run = _overall_best(plan, rows)
    hindsight_equity = None
    if hindsight_run is not None:
        equities.update(_rerun({hindsight_run} - set(equities), plan, by_run, bars))
        hindsight_equity, hindsight_trades = _stitch([(fold, hindsight_run) for fold in plan.folds], equities)
    oos = performance(oos_equity, oos_trades) if len(oos_equity) > 1 else {}
    hindsight = performance(hindsight_equity, hindsight_trades) if hindsight_equity is not None and \
        len(hindsight_equity) > 1 else {}
    in_sample = [f["is"] for f in folds if f["is"] is not None]
    first, last = plan.folds[0]["test"][0], plan.folds[-1]["test"][1]
    summary = {
        "metric": metric,
        "test_years": f"{first}-{last}",
        "is_mean": float(np.mean(in_sample)) if in_sample else None,
        "oos_stitched": oos.get(metric),
        "oos_total_return_pct": oos.get("total_return_pct"),
        "oos_trades": oos.get("trades"),
        "hindsight_run": hindsight_run,
        "hindsight": hindsight.get(metric),
        "hindsight_total_return_pct": hindsight.get("total_return_pct"),
    }
    return {"folds": folds, "summary": summary, "oos_equity": oos_equity, "hindsight_equity": hindsight_equity}


def _overall_best(plan, rows: list[dict]):
    best = best_row(plan, rows)
    return None if best is None else best["run"]


def _rerun(run_ids: set, plan, by_run: dict, bars: dict) -> dict:
    """A fold slicer (equity, trades, windows) of a few runs again (rows keep metrics, not curves)."""
    base_key = None
    out = {}
    for run_id in sorted(run_ids):
        raw = plan.sweep.config_for(plan.values_of(by_run[run_id]))
        cfg = validate_config(raw, str(plan.sweep.path))
        if base_key is None:
            base_key = data_key(validate_config(plan.sweep.base_raw, str(plan.sweep.base_path)))
        run_bars = bars if data_key(cfg) == base_key else load_run_bars(cfg)
        out[run_id] = FoldSlicer(*run_once(cfg, run_bars), run_windows(cfg, run_bars))
    return out


def _stitch(pairs: list, equities: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chain the returns of each fold's test years (window years, runner/optimize/folds.py) into one
    curve starting at 1.0, with the trades of those years."""
    times, values, cash, trades = [], [], [], []
    level = 1.0
    for fold, run_id in pairs:
        if run_id is None:
            continue
        slicer = equities[run_id]
        part = slicer.part(*fold["test"])
        if part is None:
            continue
        equity, fold_trades = part
        stamps = pd.DatetimeIndex(pd.to_datetime(equity["time"], utc=True)).tz_convert(slicer.stamps.tz)
        v = equity["value"].to_numpy(dtype="float64")
        c = equity["cash"].to_numpy(dtype="float64")
        scale = level / v[0]
        if not times:
            times.append(stamps[0])
            values.append(level)
            cash.append(c[0] * scale)
        times.extend(stamps[1:])
        values.extend(v[1:] * scale)
        cash.extend(c[1:] * scale)
        level = values[-1]
        if len(fold_trades):
            trades.append(fold_trades)
    equity = pd.DataFrame({"time": times, "value": values, "cash": cash})
    trades_frame = pd.concat(trades, ignore_index=True) if trades else pd.DataFrame(columns=["pnl"])
    return equity, trades_frame
