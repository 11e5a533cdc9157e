"""How far a sweep's winner can be trusted: its data label, trades in and out of sample, how many
trials were searched and the deflated Sharpe ratio (``runner.report.luck.deflated_sharpe``)."""
from __future__ import annotations

import pandas as pd

from runner.report.luck import MIN_TRADES, deflated_sharpe
from runner.report.provenance import playbook_label


def data_labels(cfg) -> str:
    """``playbook [LABEL]`` for each playbook the sweep runs (e.g. ``december_fade [REAL+PROXY]``)."""
    return ", ".join(f"{s.display_name} [{playbook_label(s)}]" for s in cfg.active_strategies())


def winner_trust(cfg, rows: list[dict], best: dict | None, walk_forward: dict | None,
                 bars: dict[str, pd.DataFrame]) -> dict:
    """The figures the sweep report and summary show beside the winner (see the module docstring)."""
    ok = [r for r in rows if r.get("status") == "ok"]
    sessions = len({d for frame in bars.values() for d in frame.index.date}) if bars else 0
    summary = (walk_forward or {}).get("summary") or {}
    trust = {
        "data": data_labels(cfg),
        "synthetic": any("SYNTHETIC" in playbook_label(s) for s in cfg.active_strategies()),
        "trials_searched": len(rows), "trials_ok": len(ok),
        "winner_trades": None if best is None else best.get("trades"),
        "out_of_sample_trades": summary.get("oos_trades") if walk_forward else None,
        "walk_forward": bool(walk_forward),
        "deflated_sharpe": deflated_sharpe(None if best is None else best.get("sharpe"),
                                           [r.get("sharpe") for r in ok], sessions),
        "warnings": [],
    }
    if best is not None and (best.get("trades") or 0) < MIN_TRADES:
        trust["warnings"].append(f"the winner made {best.get('trades')} trades: too few to conclude anything "
                                 f"(fewer than {MIN_TRADES})")
    if not walk_forward:
        trust["warnings"].append("no walk-forward: every figure of the winner is in sample (chosen on the same "
                                 "data it is measured on)")
    probability = trust["deflated_sharpe"]["deflated_sharpe_probability"]
    if probability is not None and probability < 0.95:
        trust["warnings"].append(f"deflated Sharpe probability {probability:.2f} (< 0.95): after {len(rows)} trials "
                                 f"the winner is not distinguishable from the luckiest of them")
    if trust["synthetic"]:
        trust["warnings"].append("SYNTHETIC data: the sweep shows the mechanics and proves nothing")
    return trust


def trust_lines(trust: dict) -> list[str]:
    """The trust figures as plain sentences (the terminal summary and the report)."""
    d = trust["deflated_sharpe"]
    oos = (f"{trust['out_of_sample_trades']} out-of-sample trades (walk-forward)" if trust["walk_forward"]
           else "no out-of-sample figure (no walk_forward in the sweep)")
    lines = [f"data: {trust['data']}",
             f"winner: {trust['winner_trades']} trades in sample; {oos}; {trust['trials_searched']} trials searched "
             f"({trust['trials_ok']} ran)"]
    if d["deflated_sharpe_probability"] is not None:
        lines.append(f"deflated Sharpe: the best of {d['trials_with_a_sharpe']} noise trials would show Sharpe "
                     f"{d['expected_max_sharpe_of_noise']:.2f}; the winner's haircut Sharpe "
                     f"{d['haircut_sharpe']:+.2f}, probability its true Sharpe > 0: "
                     f"{d['deflated_sharpe_probability']:.2f} (normal returns assumed)")
    else:
        lines.append("deflated Sharpe: not computed (fewer than two trials with a Sharpe ratio, or no winner)")
    return lines
