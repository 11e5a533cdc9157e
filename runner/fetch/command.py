"""``flowbot fetch``: the subcommand's arguments and its closing summary; the work is in runner/fetch/download.py."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from runner.cli_args import iso_date
from runner.errors import UserInputError


def register(commands, add_set) -> None:
    parser = commands.add_parser(
        "fetch", help="historical bars from IB (paper gateway or gateway-sim) into the local Parquet cache",
        description="Fetch historical bars through IB Gateway into the cache (one dataset per symbol and bar "
                    "size), within IB's pacing rules. Run the same command again to resume or extend; backtests "
                    "read the cache with --set data.source=cache.")
    parser.add_argument("--symbol", required=True, help="stock or ETF symbol, e.g. SPY")
    parser.add_argument("--bar-size", default="1 min", metavar="SIZE",
                        help="'1 min' (default), '2 mins', '3 mins', '5 mins', '10 mins', '15 mins', '20 mins', "
                             "'30 mins' or '1 day'")
    parser.add_argument("--start", required=True, type=iso_date, metavar="YYYY-MM-DD", help="first session")
    parser.add_argument("--end", type=iso_date, metavar="YYYY-MM-DD",
                        help="last session (default: today; sessions that have not closed are skipped)")
    hours = parser.add_mutually_exclusive_group()
    hours.add_argument("--rth", dest="rth", action="store_true", default=True,
                       help="regular trading hours only (default)")
    hours.add_argument("--all-hours", dest="rth", action="store_false",
                       help="include pre-market and after-hours bars (a separate dataset)")
    parser.add_argument("--what", default="TRADES", choices=("TRADES", "ADJUSTED_LAST"),
                        help="TRADES (default) or ADJUSTED_LAST (split- and dividend-adjusted daily bars)")
    parser.add_argument("-c", "--config", type=Path,
                        help="config whose ib: section says how to reach the gateway (default: config/paper.yaml)")
    add_set(parser, example="ib.port=4102 (the ib: section says how to reach the gateway)")
    parser.add_argument("--cache", type=Path, metavar="DIR",
                        help="cache folder (default: the config's data.cache_folder, logs/cache)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from runner.config import load_config
    from runner.config_files import default_config
    from runner.fetch.download import FetchRequest, fetch_bars
    from runner.fetch.plan import parse_bar_size

    size = parse_bar_size(args.bar_size)
    end = args.end or dt.date.today()
    if args.start > end:
        raise UserInputError(f"--start {args.start} is after --end {end}")
    from strategies.market_calendar import CALENDAR_START

    if args.start < dt.date.fromisoformat(CALENDAR_START):
        raise UserInputError(f"--start {args.start}: the NYSE calendar flowbot plans sessions with starts "
                             f"{CALENDAR_START}; give a later start (IB has little intraday history that old anyway)")
    cfg = load_config(args.config or default_config("paper.yaml"), args.overrides)
    from runner.inputs import safe_name

    # As in a config's symbol: ' spy' is refused, not quietly trimmed (the name is part of the cache's paths)
    request = FetchRequest(symbol=safe_name(args.symbol, "symbol").upper(), size=size, start=args.start, end=end,
                           what=args.what, rth=args.rth, cache_folder=args.cache or cfg.data.cache_folder)
    result = fetch_bars(request, cfg.ib, progress=not args.no_progress)
    print(summary(result))
    return 0


def summary(result) -> str:
    """What the fetch did, in a few lines the user reads at the end."""
    series = result.series
    bars = 0 if series.bars is None else len(series.bars)
    span = "" if not bars else f", {series.bars.index[0]:%Y-%m-%d} to {series.bars.index[-1]:%Y-%m-%d}"
    lines = [
        f"{series.symbol} {series.size}: {bars:,} bars in {series.path}{span}",
        f"  this run: {result.sessions_in_range} sessions asked, {result.already_cached} already cached, "
        f"{result.chunks_done}/{result.chunks_planned} chunks fetched in {result.requests} requests, "
        f"{result.bars_received:,} bars, {result.seconds:.1f} s ({result.waited:.1f} s waiting for IB's pacing)",
    ]
    if result.not_closed:
        lines.append(f"  {result.not_closed} session(s) had not closed yet at the gateway's time: not fetched")
    if result.gaps:
        days = [str(d) for d, _ in result.gaps]
        shown = ", ".join(days[:10]) + (f" and {len(days) - 10} more" if len(days) > 10 else "")
        lines.append(f"  GAPS: the gateway returned no bars for {len(days)} session(s): {shown}; they are listed "
                     f"in {series.manifest_path.name} and asked again by the next fetch")
    else:
        lines.append("  gaps: none")
    return "\n".join(lines)
