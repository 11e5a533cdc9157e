"""``flowbot pressure``: arguments, loading, and the three outputs (terminal, --json, --html)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from runner.cli_args import iso_date


def register(commands, add_set) -> None:
    parser = commands.add_parser(
        "pressure", help="today's rebalancing pressure: drift, implied flow, calendar, signals, playbook triggers",
        description="Show, for a date (default: the last bar), the year/quarter/month-to-date returns of the "
                    "equity and bond legs, the drifted weight of each mix and the implied flow, where the drift "
                    "stands in its own history, the calendar to the month/quarter/year end, the signals against "
                    "their thresholds, and which playbook would trigger.")
    parser.add_argument("-c", "--config", type=Path,
                        help="pressure file (default: config/pressure.yaml, else the packaged copy)")
    parser.add_argument("--date", type=iso_date, metavar="YYYY-MM-DD", help="the date to show (default: the last bar)")
    parser.add_argument("--source", choices=("config", "cache"), default="config",
                        help="config: each instrument's source in the file; cache: every instrument from the "
                             "IB cache (flowbot fetch) under its name")
    parser.add_argument("--cache", type=Path, metavar="DIR", help="the IB cache folder (default: logs/cache)")
    parser.add_argument("--playbooks", type=Path, metavar="FILE", action="append",
                        help="run config whose playbooks are checked, repeatable (default: the pressure file's "
                             "playbooks:)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of tables")
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write an HTML page with the drift chart")
    add_set(parser, example="mixes=[0.6,0.7] or aum=2e12")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from runner.config import load_config
    from runner.config_files import default_config
    from runner.inputs import check_output_file, write_output_file
    from runner.data.load import load_source
    from runner.pressure.compute import compute_pressure, drift_paths
    from runner.pressure.pressure_config import load_pressure_config
    from runner.pressure.render import print_report, to_json
    from runner.pressure.triggers import load_playbook_bars, playbook_rows

    if args.html:
        check_output_file(args.html, "--html")   # before the data is read: a wrong path fails at once
    cfg = load_pressure_config(args.config or default_config("pressure.yaml"), args.overrides)
    if args.cache:
        cfg.cache_folder = args.cache
    if args.source == "cache":
        cfg.use_cache()
    bars = {name: load_source(source, cache_folder=cfg.cache_folder) for name, source in cfg.instruments.items()}
    report = compute_pressure(cfg, bars, args.date)
    playbooks = args.playbooks or cfg.playbooks
    if playbooks:
        report["playbooks"] = []
    for path in playbooks:
        run_cfg = load_config(path)
        if args.source == "cache":
            run_cfg.data.source = "cache"
            run_cfg = type(run_cfg).model_validate(run_cfg.model_dump())
        if args.cache:
            run_cfg.data.cache_folder = args.cache
        day = dt.date.fromisoformat(report["date"])
        report["playbooks"] += playbook_rows(run_cfg, load_playbook_bars(run_cfg), day)
    if args.json:
        print(to_json(report))
    else:
        print_report(report)
    if args.html:
        from runner.pressure.html_page import render_page

        paths = None
        if cfg.bonds:
            paths = drift_paths(cfg, bars[cfg.equity], bars[cfg.bonds], dt.date.fromisoformat(report["date"]))
        write_output_file(args.html, render_page(report, paths), "--html")
        if not args.json:
            print(f"wrote {args.html}")
    return 0
