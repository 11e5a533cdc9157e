"""``flowbot compare RUN RUN...``: runs side by side, their figures and the config values that differ."""
from __future__ import annotations

from pathlib import Path

HEADLINE = (("total_return_pct", "total return %"), ("cagr_pct", "CAGR %"), ("sharpe", "Sharpe"),
            ("sortino", "Sortino"), ("max_drawdown_pct", "max drawdown %"), ("trades", "trades"),
            ("win_rate_pct", "win rate %"), ("profit_factor", "profit factor"), ("exposure_pct", "exposure %"),
            ("net_pnl", "net P&L"), ("end_value", "end value"))
PER_PLAYBOOK = (("years_traded", "years traded"), ("playbook_pnl", "P&L"),
                ("playbook_mean_trade_return_pct", "mean trade %"), ("hold_window_mean_pct", "hold window %"),
                ("unconditional_mean_pct", "unconditional %"))
IGNORED_KEYS = ("output.", "logging.", "name")


def register(commands, add_set) -> None:
    from runner.commands.output import add_json

    parser = commands.add_parser("compare", help="past runs side by side: figures and parameter differences")
    parser.add_argument("runs", metavar="RUN", nargs="+",
                        help="two or more run folders (path, name under --runs, unique part, latest, latest~1, ...)")
    parser.add_argument("--runs", dest="runs_folder", type=Path, default=Path("logs"), metavar="DIR",
                        help="where run folders are (default: logs)")
    add_json(parser, "the comparison")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from runner.commands.output import print_json, wants_json
    from runner.commands.past_runs import find_run, read_run
    from runner.errors import UserInputError

    if len(args.runs) < 2:
        raise UserInputError("compare: give at least two runs, e.g. flowbot compare latest~1 latest")
    past = [read_run(find_run(text, args.runs_folder)) for text in args.runs]
    sweeps = [p.name for p in past if p.kind == "optimize"]
    if sweeps:
        raise UserInputError(f"compare: {sweeps[0]} is a sweep (flowbot optimize); compare backtest or paper runs, "
                             f"e.g. the backtest of its best.yaml (flowbot show {sweeps[0]} lists its best runs)")
    comparison = compare(past)
    if wants_json(args):
        print_json(comparison)
    else:
        _print(comparison)
    return 0


def compare(past) -> dict:
    """Figures by run, and every config key whose value is not the same in all runs."""
    from runner.commands.past_runs import flat_config

    runs = [{"folder": str(p.folder), "name": p.name, "kind": p.kind} for p in past]
    figures = {label: [p.metrics.get(key) for p in past] for key, label in HEADLINE}
    figures["period"] = [f"{str(p.metrics.get('start', ''))[:10]}..{str(p.metrics.get('end', ''))[:10]}"
                         for p in past]
    playbooks = list(dict.fromkeys(name for p in past for name in (p.metrics.get("baseline") or {})))
    for name in playbooks:
        for key, label in PER_PLAYBOOK:
            figures[f"{name}: {label}"] = [((p.metrics.get("baseline") or {}).get(name) or {}).get(key) for p in past]
    flats = [flat_config(p.config) for p in past]
    keys = list(dict.fromkeys(k for flat in flats for k in flat))
    missing = object()
    differences = {}
    for key in keys:
        if key.startswith(IGNORED_KEYS):
            continue
        values = [flat.get(key, missing) for flat in flats]
        if any(v != values[0] for v in values[1:]):
            differences[key] = [None if v is missing else v for v in values]
    return {"runs": runs, "figures": figures, "differences": differences}


def figure(value) -> str:
    """A number for people: 2 decimals (thousands separated), whole numbers as they are, – for none."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "–"
        text = f"{value:,.2f}"
        return "0.00" if text in ("-0.00",) else text
    return str(value)


def _print(comparison: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True, width=min(max(Console().width, 80), 140))
    runs = comparison["runs"]
    for i, r in enumerate(runs, 1):
        console.print(f"[bold]{i}[/bold]: {r['folder']} ({r['kind']})")
    table = Table(title="figures")
    table.add_column("", no_wrap=True)
    for i in range(1, len(runs) + 1):
        table.add_column(str(i), justify="right")
    for label, values in comparison["figures"].items():
        table.add_row(label, *(figure(v) for v in values))
    console.print(table)
    if not comparison["differences"]:
        console.print("same configuration (apart from name, output and logging)")
        return
    diff = Table(title="config values that differ")
    diff.add_column("key", overflow="fold")
    for i in range(1, len(runs) + 1):
        diff.add_column(str(i), justify="right", overflow="fold")
    for key, values in comparison["differences"].items():
        diff.add_row(key, *("(none)" if v is None else str(v) for v in values))
    console.print(diff)
