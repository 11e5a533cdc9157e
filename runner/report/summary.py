"""The short summary a run prints at the end, and the notes that label its data."""
from __future__ import annotations

import textwrap
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


SUMMARY_WIDTH = 100   # the summary's tables and lines fit this many columns


def _pct(value) -> str:
    return "–" if value is None else f"{value:+.2f}%"


def summary_console() -> Console:
    """A console at most 100 columns wide (the terminal's width when it is narrower)."""
    probe = Console()
    width = min(probe.width, SUMMARY_WIDTH) if probe.is_terminal else SUMMARY_WIDTH
    return Console(highlight=False, width=width)


def print_wrapped(console: Console, text: str, style: str = "") -> None:
    """``text`` folded to the console's width at spaces, continuation lines indented: the name and label
    that open a line stay on it, and grep finds them with what they label."""
    for line in textwrap.wrap(text, width=console.width, subsequent_indent="    ", break_long_words=False):
        console.print(line, style=style or None, soft_wrap=True, markup=False)


def combined_hold(m: dict) -> tuple[float, float] | None:
    """The combined non-synthetic book against holding: (its return on the accounts' cash, the mean of
    holding each playbook's instrument over its span instead: equal accounts, equal parts)."""
    combined = m.get("combined_non_synthetic") or {}
    names = combined.get("playbooks") or []
    holds = [m["playbooks"][n].get("buy_and_hold_pct") for n in names]
    starts = [m["playbooks"][n]["performance"].get("start_value") for n in names]
    if not names or None in holds or None in starts or not sum(starts):
        return None
    return 100.0 * combined["net_pnl"] / sum(starts), sum(holds) / len(holds)


def print_backtest_summary(cfg: RunConfig, result, folder: Path, notes: list[str]) -> None:
    """Per playbook, each on its own account and data (never pooled with SYNTHETIC data), against holding
    its instrument, with its sample size, the luck measure and the warnings; then the combined non-synthetic
    book against holding, and the data notes. Fits 100 columns."""
    console = summary_console()
    m = result.metrics
    paper = m.get("mode") == "paper"
    table = Table(title=f"flowbot paper {cfg.name}: the playbooks share the paper account" if paper else
                  f"flowbot backtest {cfg.name}: each playbook on its own account of {cfg.broker.cash:,.0f}")
    trust = Table(title="risk, and against its windows: how much to trust it")
    for column in ("playbook", "data", "span", "trades", "windows", "net P&L", "return", "hold"):
        table.add_column(column, justify="left" if column in ("playbook", "data", "span") else "right",
                         overflow="fold", max_width=16 if column == "playbook" else None)
    widths = {"playbook": 16, "hold / window": 8, "uncond. / window": 8}   # 100 columns with the label
    for column in ("playbook", "data", "max DD", "exposure", "mean trade", "hold / window", "uncond. / window",
                   "p (luck)"):
        trust.add_column(column, justify="left" if column in ("playbook", "data") else "right",
                         overflow="fold", max_width=widths.get(column))
    for name, f in m["playbooks"].items():
        perf, sample, against = f["performance"], f["sample"], f["against_windows"]
        p_value = f["luck"]["p_value"]
        table.add_row(name, f["data_label"], f"{perf.get('start', '')[:4]}–{perf.get('end', '')[:4]}",
                      str(sample["trades"]), f"{sample['windows_traded']}/{sample['windows']}",
                      f"{perf.get('net_pnl', 0.0):,.2f}", _pct(perf.get("total_return_pct")),
                      _pct(f.get("buy_and_hold_pct")))
        trust.add_row(name, f["data_label"], _pct(perf.get("max_drawdown_pct")), f"{perf.get('exposure_pct', 0.0):.2f}%",
                      _pct(against["trade_return_mean_pct"]), _pct(against["hold_window_mean_pct"]),
                      _pct(against["unconditional_window_mean_pct"]), "–" if p_value is None else f"{p_value:.2f}")
    console.print(table)
    console.print(trust)
    for name, f in m["playbooks"].items():
        for warning in f["warnings"]:
            print_wrapped(console, f"{name} [{f['data_label']}]: {warning}", "yellow")
    if paper:   # one account: its figures are the run's, per playbook only its trades'
        console.print(f"paper account: net P&L {m.get('net_pnl', 0.0):,.2f} over {m.get('trades', 0)} trades, return "
                      f"{_pct(m.get('total_return_pct'))}, max drawdown {_pct(m.get('max_drawdown_pct'))}")
    combined = m.get("combined_non_synthetic")
    if combined and combined["playbooks"]:
        left_out = combined["left_out_synthetic"]
        against_hold = combined_hold(m)
        print_wrapped(console, f"combined, non-synthetic playbooks only ({', '.join(combined['playbooks'])}; separate "
                      f"accounts): net P&L {combined['net_pnl']:,.2f} over {combined['trades']} trades"
                      + (f", {_pct(against_hold[0])} of their cash; holding their instruments instead "
                         f"{_pct(against_hold[1])}" if against_hold else ""))
        if left_out:
            print_wrapped(console, f"combined: left out as SYNTHETIC: {', '.join(left_out)}")
    console.print("[dim]return / hold: the playbook's account over the span / holding its instrument over the "
                  "same span instead; mean trade: mean net pnl_pct of the trades; hold / uncond. per window: mean "
                  "return of holding long / taking the playbook's side over the span it could hold, every window; "
                  "p (luck): share of random choices of as many windows that did as well (docs/metrics.md)[/dim]")
    for note in notes:
        print_wrapped(console, note, "dim")
    console.print(f"run folder: {folder}", soft_wrap=True)   # one line, to copy
