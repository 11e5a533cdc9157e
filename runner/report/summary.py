"""The short summary a run prints at the end, and the notes that label its data."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from runner.config import RunConfig
from runner.data.sample import sample_note


def run_notes(cfg: RunConfig) -> list[str]:
    """One line per data source saying what it is (real, synthetic, proxy)."""
    notes = []
    for strategy in cfg.active_strategies():
        sources = [("", strategy.data), *((f" {role}", src) for role, src in strategy.feeds.items())]
        for role, source in sources:
            if source.sample:
                what = sample_note(source.sample)
            elif source.cache:
                what = "bars fetched from IB into the local cache (flowbot fetch)"
            else:
                what = "user data file"
            notes.append(f"{strategy.display_name}{role}: {source.describe()} — {what}")
    return list(dict.fromkeys(notes))


def _pct(value) -> str:
    return "–" if value is None else f"{value:+.2f}%"


def print_backtest_summary(cfg: RunConfig, result, folder: Path, notes: list[str]) -> None:
    """Per playbook, each on its own account and data (never pooled with SYNTHETIC data), with its
    sample size, the luck measure and the warnings; then the data notes."""
    console = Console(highlight=False, soft_wrap=True, width=max(Console().width, 110))
    m = result.metrics
    table = Table(title=f"flowbot backtest {cfg.name}: each playbook on its own account of {cfg.broker.cash:,.0f}")
    trust = Table(title="against its windows, and how much to trust it")
    for column in ("playbook", "data", "span", "trades", "windows traded", "net P&L", "return", "max DD", "exposure"):
        table.add_column(column, justify="left" if column in ("playbook", "data", "span") else "right")
    for column in ("playbook", "data", "mean trade", "hold / window", "uncond. / window", "p (luck)"):
        trust.add_column(column, justify="left" if column in ("playbook", "data") else "right")
    for name, f in m["playbooks"].items():
        perf, sample, against = f["performance"], f["sample"], f["against_windows"]
        p_value = f["luck"]["p_value"]
        table.add_row(name, f["data_label"], f"{perf.get('start', '')[:4]}–{perf.get('end', '')[:4]}",
                      str(sample["trades"]), f"{sample['windows_traded']}/{sample['windows']}",
                      f"{perf.get('net_pnl', 0.0):,.2f}", _pct(perf.get("total_return_pct")),
                      _pct(perf.get("max_drawdown_pct")), f"{perf.get('exposure_pct', 0.0):.2f}%")
        trust.add_row(name, f["data_label"], _pct(against["trade_return_mean_pct"]),
                      _pct(against["hold_window_mean_pct"]), _pct(against["unconditional_window_mean_pct"]),
                      "–" if p_value is None else f"{p_value:.2f}")
    console.print(table)
    console.print(trust)
    for name, f in m["playbooks"].items():
        for warning in f["warnings"]:
            console.print(f"[yellow]{name} [{f['data_label']}]: {warning}[/yellow]")
    combined = m.get("combined_non_synthetic")
    if combined and combined["playbooks"]:
        left_out = combined["left_out_synthetic"]
        console.print(f"combined, non-synthetic playbooks only ({', '.join(combined['playbooks'])}; separate accounts): "
                      f"net P&L {combined['net_pnl']:,.2f} over {combined['trades']} trades"
                      + (f"; left out as SYNTHETIC: {', '.join(left_out)}" if left_out else ""))
    console.print("[dim]mean trade: mean net pnl_pct of the trades; hold / uncond. per window: mean return of holding "
                  "long / taking the playbook's side over the span it could hold, every window; p (luck): share of "
                  "random choices of as many windows that did as well (docs/metrics.md)[/dim]")
    for note in notes:
        console.print(f"[dim]{note}[/dim]")
    console.print(f"run folder: {folder}")
