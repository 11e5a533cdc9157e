"""The pressure report in the terminal (rich tables) and as JSON."""
from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from runner.pressure.calendar_table import terminal_rows


def _pct(value, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value * 100:+.{digits}f}%"


def _pts(value) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _money(value) -> str:
    if value is None:
        return "n/a"
    side = "sell equities" if value > 0 else "buy equities"
    return f"{abs(value) / 1e9:,.1f} bn ({side})"


def _verdict(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[yellow]no[/]"


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, default=str)


def print_report(report: dict, console: Console | None = None) -> None:
    console = console or Console()
    head = f"[bold]flowbot pressure[/] {report['date']}: {report['equity']} close {report['close']:,.2f}"
    console.print(head)
    if report.get("note"):
        console.print(f"[yellow]{report['note']}[/]")
    for name, label in report["labels"].items():
        console.print(f"  {name}: {label}")

    returns = Table(title="Period-to-date total returns")
    for column in ("leg", "year", "quarter", "month"):
        returns.add_column(column, justify="right" if column != "leg" else "left")
    for leg, values in report["returns"].items():
        role = "equity" if leg == report["equity"] else "bonds"
        returns.add_row(f"{leg} ({role})", *(_pct(values[p]) for p in ("year", "quarter", "month")))
    console.print(returns)

    if report.get("mixes"):
        mixes = Table(title=f"Drifted equity weight and implied flow per ${report['aum'] / 1e12:g}T")
        for column in ("mix", "period", "weight", "drift, pts", "implied flow"):
            mixes.add_column(column, justify="left" if column in ("mix", "period") else "right")
        for row in report["mixes"]:
            weight = "n/a" if row["weight"] is None else f"{row['weight']:.2%}"
            mixes.add_row(row["mix"], row["period"], weight, _pts(row["drift_pts"]), _money(row["flow"]))
        console.print(mixes)
        history = report["history"]
        if history.get("today") is not None:
            higher = ", ".join(map(str, history["years_higher"])) or "none"
            console.print(f"Year-to-date drift of {history['target']:.0%}/{1 - history['target']:.0%}: "
                          f"{history['today']:+.2f} pts, percentile {history['percentile_all_sessions']:.1f} of "
                          f"{history['sessions']} sessions since {history['first']}; on this date "
                          f"percentile {history['percentile_same_date']} of {len(history['same_date'])} years; "
                          f"higher in: {higher}")
    else:
        console.print("no bond leg configured: no drift (set bonds: in the pressure file)")

    cal = report["calendar"]
    left = cal["sessions_left"]
    console.print(f"Sessions left after today: month {left['month']} (to {cal['ends']['month']}), quarter "
                  f"{left['quarter']} (to {cal['ends']['quarter']}), year {left['year']} (to {cal['ends']['year']})")
    opex = cal["opex"]
    rest = ", ".join(o["date"] + (" (quarterly)" if o["quarterly"] else "") for o in cal["opex_to_year_end"])
    console.print(f"OPEX: this month {opex['month']}, quarter-end month {opex['quarter_end_month']}, "
                  f"December {opex['december']}; to year end: {rest or 'none'}; early closes to year end: "
                  f"{', '.join(cal['early_closes_to_year_end']) or 'none'}")
    sessions = Table(title=f"Sessions to the year end ({len(cal['sessions'])}; after this month, ordinary ones are "
                           f"folded; --json lists each)")
    for column in ("session", "close", "MOC cutoff NYSE / Nasdaq", "sessions to month / quarter / year end (1 = its last)", "note"):
        sessions.add_column(column, no_wrap=column == "session")
    for s in terminal_rows(cal):
        sessions.add_row(s["label"], s["close"], f"{s['moc_cutoff_nyse']} / {s['moc_cutoff_nasdaq']}",
                         f"{s['sessions_to_month_end']} / {s['sessions_to_quarter_end']} / {s['sessions_to_year_end']}",
                         s["note"])
    console.print(sessions)

    if report["signals"]:
        signals = Table(title="Signals against their thresholds")
        for column in ("signal", "value", "passes"):
            signals.add_column(column)
        for row in report["signals"]:
            signals.add_row(row["signal"], row["text"], _verdict(row["passes"]))
        console.print(signals)

    for row in report.get("playbooks", []):
        title = (f"{row['playbook']} ({row['symbol']}): "
                 + (f"[green]{row['status']}[/]" if not row["waits_on"] else row["status"]))
        if not row["conditions"]:
            console.print(title)
            continue
        table = Table(title=title, title_justify="left")
        for column in ("condition", "value", "threshold", "met"):
            table.add_column(column)
        for c in row["conditions"]:
            value = "" if c["value"] is None else f"{c['value']:+.2f}"
            met = _verdict(c["ok"]) + ("" if c["required"] else " (one of)")
            table.add_row(c["condition"], value, c["threshold"], met)
        console.print(table)
        for c in row["conditions"]:
            if c.get("note"):
                console.print(f"  {c['condition']}: {c['note']}")
