"""``flowbot compare RUN RUN...``: runs side by side, their figures and the config values that differ."""
from __future__ import annotations

from pathlib import Path

# Per playbook (metrics.json's playbooks.<name>): (where, key, label); where is a section of the figures or "".
PER_PLAYBOOK = (("", "data_label", "data"), ("performance", "trades", "trades"),
                ("sample", "windows_traded", "windows traded"), ("sample", "windows", "windows"),
                ("performance", "net_pnl", "net P&L"), ("performance", "total_return_pct", "return %"),
                ("", "buy_and_hold_pct", "hold %"), ("performance", "cagr_pct", "CAGR %"),
                ("performance", "sharpe", "Sharpe"), ("performance", "sortino", "Sortino"),
                ("performance", "max_drawdown_pct", "max drawdown %"), ("performance", "win_rate_pct", "win rate %"),
                ("performance", "profit_factor", "profit factor"), ("performance", "exposure_pct", "exposure %"),
                ("performance", "mean_trade_return_pct", "mean trade %"),
                ("performance", "median_trade_return_pct", "median trade %"),
                ("against_windows", "hold_window_mean_pct", "hold / window %"),
                ("against_windows", "unconditional_window_mean_pct", "uncond. / window %"),
                ("luck", "p_value", "p (luck)"))
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
    figures: dict[str, list] = {}
    books = [_mapping(p.metrics.get("playbooks")) for p in past]
    playbooks = list(dict.fromkeys(str(name) for book in books for name in book))
    for name in playbooks:
        entries = [_mapping(book.get(name)) for book in books]
        figures[f"{name}: span"] = [_span(_mapping(e.get("performance"))) for e in entries]
        for where, key, label in PER_PLAYBOOK:
            figures[f"{name}: {label}"] = [_plain(_mapping(e.get(where)) if where else e, key) for e in entries]
    if any(p.metrics.get("combined_non_synthetic") for p in past):
        combined = [_mapping(p.metrics.get("combined_non_synthetic")) for p in past]
        figures["combined non-synthetic: net P&L"] = [c.get("net_pnl") for c in combined]
        figures["combined non-synthetic: trades"] = [c.get("trades") for c in combined]
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
    return {"runs": runs, "playbooks": playbooks, "figures": figures, "differences": differences}


def _mapping(value) -> dict:
    """A section of a metrics.json as a dict: one of another type (a damaged or foreign file) as empty."""
    return value if isinstance(value, dict) else {}


def _plain(section: dict, key: str):
    """A figure as it can be shown: a number, text or none (a list or a mapping there is not a figure)."""
    value = section.get(key)
    return value if value is None or isinstance(value, (int, float, str)) else None


def _span(performance: dict) -> str | None:
    start, end = str(performance.get("start") or ""), str(performance.get("end") or "")
    return f"{start[:10]}..{end[:10]}" if start and end else None


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
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True, width=min(max(Console().width, 80), 140))
    runs = comparison["runs"]
    for i, r in enumerate(runs, 1):
        console.print(f"[bold]{i}[/bold]: {escape(r['folder'])} ({escape(r['kind'])})")
    table = Table(title="figures, each playbook on its own account")
    table.add_column("", no_wrap=True)
    for i in range(1, len(runs) + 1):
        table.add_column(str(i), justify="right")
    section = None
    for label, values in comparison["figures"].items():
        group, _, name = label.partition(": ")
        if group != section:
            if section is not None:
                table.add_section()
            table.add_row(f"[bold]{escape(group)}[/bold]", *([""] * len(runs)))
            section = group
        table.add_row(f"  {escape(name)}", *(escape(figure(v)) for v in values))
    console.print(table)
    if not comparison["differences"]:
        console.print("same configuration (apart from name, output and logging)")
        return
    diff = Table(title="config values that differ")
    diff.add_column("key", overflow="fold")
    for i in range(1, len(runs) + 1):
        diff.add_column(str(i), justify="right", overflow="fold")
    for key, values in comparison["differences"].items():
        diff.add_row(escape(key), *("(none)" if v is None else escape(str(v)) for v in values))
    console.print(diff)
