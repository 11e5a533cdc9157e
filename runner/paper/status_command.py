"""``flowbot status [RUN]``: what a paper session is doing (or did), from its status.json.

RUN is a run folder; default: the newest paper run under ``--logs`` (default ``logs``). The file is
rewritten on every event, so this shows the state as of the last event, even of a process that was
killed; ``--json`` prints the file as it is.
"""
from __future__ import annotations

import json
from pathlib import Path


def register(commands, add_set) -> None:
    parser = commands.add_parser("status", help="what a paper session is doing: positions, orders, fills, P&L",
                                 description="Print a paper run's status.json: connection, last bar per feed, "
                                             "positions, working orders, recent fills, P&L and events.")
    parser.add_argument("run", nargs="?", type=Path, metavar="RUN",
                        help="run folder (default: the newest paper run under --logs)")
    parser.add_argument("--logs", type=Path, default=Path("logs"), metavar="DIR",
                        help="folder of the run folders (default: logs)")
    parser.add_argument("--json", action="store_true", help="print status.json as it is")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from runner.errors import UserInputError
    from runner.inputs import cut
    from runner.paper.status_file import STATUS_FILE, latest_paper_run, read_status

    folder = args.run
    if folder is None:
        folder = latest_paper_run(args.logs)
        if folder is None:
            raise UserInputError(f"no paper run under {cut(str(args.logs))}/ (none has a {STATUS_FILE}); start one "
                                 f"with `flowbot paper`, or name a run folder: flowbot status RUN")
    if not (folder / STATUS_FILE).is_file():
        raise UserInputError(f"{cut(str(folder))}: no {STATUS_FILE} there; expected the run folder of a paper "
                             f"session (logs/<stamp>-paper-<name>)")
    state = read_status(folder)   # UserInputError naming the file when it is not a JSON object flowbot writes
    if args.json:
        print(json.dumps(state, indent=2))
        return 0
    try:
        text = format_status(state)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:   # edited, or written by another version
        what = f"no field {exc}" if isinstance(exc, KeyError) else f"a field of the wrong type ({cut(str(exc))})"
        raise UserInputError(f"{cut(str(folder / STATUS_FILE))}: not a status file of flowbot paper ({what}); "
                             f"flowbot status --json prints it as it is") from None
    print(text)
    return 0


def format_status(state: dict) -> str:
    def money(v):
        return "n/a" if v is None else f"{v:+,.2f}"

    conn, pnl = state["connection"], state["pnl"]
    lines = [f"paper run {state['run']} ({state['state']}{': ' + state['stop_reason'] if state['stop_reason'] else ''})",
             f"  folder      {state['folder']}",
             f"  updated     {state['updated']}",
             f"  connection  {conn['state']} since {conn['since']}" + (f" ({conn['message']})" if conn.get("message") else ""),
             f"  P&L         {money(pnl['total'])} (realised {money(pnl['realised'])}), value "
             f"{'n/a' if pnl['value'] is None else format(pnl['value'], ',.2f')}"]
    lines.append("last bar")
    lines += [f"  {name:<10} {bar['bar_size']:<5} {bar['time']}  close {bar['close']:,.2f}"
              for name, bar in state["last_bar"].items()] or ["  none yet"]
    stale = state.get("stale_feeds") or {}   # absent in the status files of older versions
    if stale:
        lines.append("stale feeds (real-time bars stopped, no error from the gateway)")
        lines += [f"  {name:<10} no bar since {feed['since']} (detected {feed['detected']})"
                  for name, feed in stale.items()]
    lines.append("positions")
    lines += [f"  {symbol:<10} {p['size']:+g} at {p['price']:,.2f}" for symbol, p in state["positions"].items()] \
        or ["  flat"]
    lines.append("working orders")
    lines += [f"  {o['strategy']}: {o['side']} {o['size']:g} {o['symbol']} {o['type']}"
              + (f" at {o['limit_price']:,.2f}" if o.get("limit_price") else "")
              + (f" {'trigger' if o.get('limit_price') else 'at'} {o['stop_price']:,.2f}" if o.get("stop_price")
                 else "")
              + f" ({o['reason']}, {o['status']})" for o in state["working_orders"]] or ["  none"]
    lines.append("fills (latest last)")
    lines += [f"  {f['time']}  {f['strategy']}: {f['side']} {f['filled_size']:g} {f['symbol']} at "
              f"{f['fill_price']:,.2f} ({f['reason']})" for f in state["fills"][-10:]] or ["  none"]
    lines.append("events (latest last)")
    lines += [f"  {e['time']}  {e['kind']}: {e['text']}" for e in state["events"][-10:]] or ["  none"]
    # Every text field came from the file: control characters (a terminal's escape codes) are shown escaped.
    return "\n".join("".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in line) for line in lines)
