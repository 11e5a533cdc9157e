"""metrics.json's contents: per playbook, on its own account, with its data label, sample size and luck."""
from __future__ import annotations

import numpy as np
import pandas as pd

from runner.config import RunConfig
from runner.data.bars import extra_feed_name
from runner.report.luck import random_timing_test, warnings_for
from runner.report.metrics import (against_windows, buy_and_hold, per_year_rows, performance, window_records,
                                   window_table)
from runner.report.provenance import is_synthetic, playbook_label, source_label
from strategies.registry import STRATEGIES

ACCOUNTS_NOTE = ("each playbook trades its own account of broker.cash, so its figures do not depend on the other "
                 "playbooks of the run")


SHARED_ACCOUNT_NOTE = ("the playbooks share one account (the paper account): performance is the account's, "
                       "per playbook only its trades' figures")


def playbook_figures(strategy, equity: pd.DataFrame | None, trades: pd.DataFrame, bars: dict[str, pd.DataFrame],
                     account: str = ACCOUNTS_NOTE) -> dict:
    """Everything metrics.json says about one playbook (keys in docs/metrics.md); ``equity`` None when
    it shares an account with others (then its performance is its trades' figures only)."""
    label = playbook_label(strategy)
    instrument = bars.get(strategy.symbol)
    playbook = STRATEGIES[strategy.name]
    windows = (playbook.holding_windows(strategy.typed_params(), instrument) if instrument is not None
               else pd.DataFrame(columns=list(playbook.WINDOW_COLUMNS)))
    table = window_table(windows.reset_index(drop=True), trades)
    summary = against_windows(table, trades)
    returns = trades["pnl_pct"].to_numpy(dtype="float64") / 100.0 if len(trades) else np.array([])
    luck = random_timing_test(returns, table["unconditional"].to_numpy(dtype="float64"))
    sample = {"trades": int(len(trades)), "windows": summary["windows"], "windows_traded": summary["windows_traded"],
              "years_with_a_trade": summary["years_with_a_trade"],
              "years_covered": int(table["year"].nunique()) if len(table) else 0}
    return {
        "data_label": label,
        "data": [{"role": role, "source": source.describe(), "label": source_label(source)}
                 for role, source in [("instrument", strategy.data), *strategy.feeds.items()]],
        "account": account,
        "performance": performance(equity, trades),
        "sample": sample,
        "against_windows": summary,
        "luck": luck,
        "warnings": warnings_for(label, sample["trades"], sample["windows"], sample["windows_traded"],
                                 luck["p_value"]),
        "buy_and_hold_pct": buy_and_hold(instrument),
        "per_year": per_year_rows(table, trades),
        "windows": window_records(table),
    }


def run_metrics(cfg: RunConfig, per_playbook: dict[str, dict], reproducibility: dict, notes: list[str]) -> dict:
    """metrics.json: the playbooks first; a combined figure only over playbooks on non-synthetic data."""
    metrics: dict = {"run": cfg.name, "metrics_doc": "docs/metrics.md", "accounts": ACCOUNTS_NOTE,
                     "playbooks": per_playbook}
    real = {name: f for name, f in per_playbook.items() if not is_synthetic(f["data_label"])}
    if len(per_playbook) > 1:
        metrics["combined_non_synthetic"] = {
            "playbooks": list(real),
            "left_out_synthetic": [n for n in per_playbook if n not in real],
            "trades": int(sum(f["performance"].get("trades", 0) for f in real.values())),
            "net_pnl": round(sum(f["performance"].get("net_pnl", 0.0) for f in real.values()), 2),
            "note": "sum over separate accounts of broker.cash each; SYNTHETIC playbooks are never pooled in",
        }
    elif per_playbook:
        # One playbook: its figures at the top level too (what a sweep optimizes), with its label.
        (name, only), = per_playbook.items()
        metrics.update({"playbook": name, "data_label": only["data_label"], **only["performance"]})
    metrics["reproducibility"] = reproducibility
    metrics["notes"] = notes
    return metrics


def feeds_of(strategy, bars: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The bars one playbook reads: its instrument and its extra feeds."""
    names = [strategy.symbol, *(extra_feed_name(strategy.symbol, role) for role in strategy.feeds)]
    return {name: bars[name] for name in names if name in bars}


def paper_metrics(cfg: RunConfig, equity: pd.DataFrame, trades: pd.DataFrame, bars: dict[str, pd.DataFrame]) -> dict:
    """metrics.json of a paper session: the shared account's performance, then per playbook its trades'
    figures against its windows, with its data label, sample size and luck measure."""
    metrics: dict = {"run": cfg.name, "mode": "paper", "metrics_doc": "docs/metrics.md",
                     "accounts": SHARED_ACCOUNT_NOTE, **performance(equity, trades), "playbooks": {}}
    for strategy in cfg.active_strategies():
        name = strategy.display_name
        mine = trades[trades["strategy"] == name].reset_index(drop=True) if len(trades) else trades
        metrics["playbooks"][name] = playbook_figures(strategy, None, mine, feeds_of(strategy, bars),
                                                      account=SHARED_ACCOUNT_NOTE)
    return metrics
