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


SUMMARY_WIDTH = 100


def _mean_hold(holds: dict | None) -> float | None:
    values = [v for v in (holds or {}).values() if v is not None]
    return sum(values) / len(values) if values else None


def _pct(value) -> str:
    return "–" if value is None else f"{value:+.2f}%"


def print_backtest_summary(cfg: RunConfig, result, folder: Path, notes: list[str]) -> None:
    # The table fits 100 columns (short headers; long playbook labels fold); wider terminals use their width.
    console = Console(highlight=False, soft_wrap=True, width=max(Console().width, SUMMARY_WIDTH))
    m = result.metrics
    table = Table(title=f"flowbot backtest {cfg.name}: {m.get('start', '')[:10]} to {m.get('end', '')[:10]}")
    for column in ("playbook", "trades", "years traded", "P&L", "mean trade", "hold window", "unconditional"):
        table.add_column(column, justify="left" if column == "playbook" else "right",
                         overflow="fold", max_width=24 if column == "playbook" else None)
    for name, b in m["baseline"].items():
        table.add_row(name, str(sum(r[f"{name}.trades"] for r in m["per_year"])),
                      f"{b['years_traded']}/{b['years_with_window']}", f"{b['playbook_pnl']:,.2f}",
                      _pct(b["playbook_mean_trade_return_pct"]), _pct(b["hold_window_mean_pct"]),
                      _pct(b["unconditional_mean_pct"]))
    if m["baseline"]:
        table.add_section()
        table.add_row("portfolio", str(m.get("trades", 0)), "", f"{m.get('net_pnl', 0):,.2f}",
                      _pct(m.get("total_return_pct")), _pct(_mean_hold(m.get("buy_and_hold_pct"))), "")
    console.print(table, width=min(console.width, SUMMARY_WIDTH))
    console.print("[dim]hold window / unconditional: mean return of holding the instrument over the playbook's "
                  "window each year / of taking its side each year. portfolio: the run's total return; hold = "
                  "the instruments bought in equal parts and held over the whole run.[/dim]",
                  soft_wrap=False, width=min(console.width, SUMMARY_WIDTH))
    holds = m.get("buy_and_hold_pct") or {}
    if holds:
        console.print("holding instead over the whole run: "
                      + ", ".join(f"{symbol} {_pct(value)}" for symbol, value in holds.items()))
    sharpe = "–" if m.get("sharpe") is None else f"{m['sharpe']:.2f}"
    console.print(f"total return {_pct(m.get('total_return_pct'))}, CAGR {_pct(m.get('cagr_pct'))}, "
                  f"Sharpe {sharpe}, max drawdown {_pct(m.get('max_drawdown_pct'))}, "
                  f"exposure {m.get('exposure_pct', 0):.1f}%, {m.get('trades', 0)} trades")
    for note in notes:
        console.print(f"[dim]{note}[/dim]")
    console.print(f"run folder: {folder}")
