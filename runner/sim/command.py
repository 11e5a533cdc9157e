"""``flowbot gateway-sim``: the simulated IB Gateway on loopback, for rehearsals."""
from __future__ import annotations

import argparse


def register(commands, add_set) -> None:
    parser = commands.add_parser("gateway-sim", help="run a simulated IB Gateway on 127.0.0.1 (no IB needed)")
    parser.add_argument("--port", type=int, default=4102, help="port to listen on (default 4102; 0 = any free port)")
    parser.add_argument("--data", metavar="PATH",
                        help="bars to replay: a file, a folder (one symbol per file), SYM=FILE|sample:NAME,... "
                             "(default: the embedded samples as SPY and IWM)")
    parser.add_argument("--speed", type=float, default=600.0,
                        help="simulated seconds per real second (600 = 10 minutes a second; 0 = as fast as possible)")
    parser.add_argument("--symbol", help="symbol for a single data file (default: the file name)")
    parser.add_argument("--delimiter", metavar="CHAR", help="CSV field separator of the data files, e.g. ';' or '\\t'")
    parser.add_argument("--start", help="simulated time to start at, e.g. 2018-12-01 (default: 300 sessions in)")
    parser.add_argument("--account", default="DU1234567", help="account id the gateway reports (DU... = paper)")
    parser.add_argument("--cash", type=float, default=100_000.0, help="starting cash")
    parser.add_argument("--partial-fills", type=int, default=0, metavar="N", help="split each fill into N executions")
    parser.add_argument("--no-pacing", action="store_true", help="do not enforce IB's historical-data pacing")
    parser.add_argument("--session-pause", type=float, default=NIGHT_SECONDS, metavar="S",
                        help=f"real seconds the night lasts after each session's close (default {NIGHT_SECONDS:g}): "
                             f"a market order sent on the day's bar must reach the gateway before the next open, "
                             f"as it does overnight at IB")
    parser.add_argument("--exit-when-done", action="store_true", help="stop when the data is replayed")
    parser.add_argument("--fault", action="append", default=[], metavar="KIND@SECONDS[:ARG]",
                        help="inject a fault after SECONDS: drop@30, restart@60:20 (down 20 s), 1100@40, 1101@S, 1102@S, "
                             "reject@10:1 (next N orders), pacing@S:N, clientid@S:ID (326), "
                             "stall@S[:SYMBOL] (real-time bars stop silently; a resubscription mends it)")
    parser.add_argument("--vary", action="append", default=[], metavar="NAME[=P]",
                        help="vary the message stream in a legal way IB Gateway does, at every chance (or with "
                             "probability P): status_first, quiet_live, pending_cancel, api_cancelled, warn_399, "
                             "farm_notices, last_fill_zero, or all")
    parser.add_argument("--seed", type=int, default=0, help="seed of the commission delays and the --vary choices")
    parser.set_defaults(handler=_run)


#: The closed hours are skipped at any ``--speed``; the pause after each close is the bot's night. The library's
#: default (0.05 s, for tests that wait on the bot) is too short for a bot deciding at the close under load.
NIGHT_SECONDS = 3.0


def _run(args: argparse.Namespace) -> int:
    from runner.sim.cli_entry import run_gateway_sim

    delimiter = {"\\t": "\t", "tab": "\t"}.get(args.delimiter, args.delimiter)
    return run_gateway_sim(args.data, args.port, args.speed, symbol=args.symbol, start=args.start,
                           delimiter=delimiter,
                           account=args.account, cash=args.cash, partial_fills=args.partial_fills,
                           pacing=not args.no_pacing, session_pause=args.session_pause,
                           exit_when_done=args.exit_when_done, faults=args.fault, vary=args.vary, seed=args.seed)
