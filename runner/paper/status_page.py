"""A read-only local status page for a running paper session (``flowbot paper --status-port 8765``).

Bound to 127.0.0.1 only. ``GET /`` is an HTML page (refreshes itself every 5 s, no script, no
outside request): connection, P&L, last bar per feed, positions, working orders, fills, recent
events. ``GET /status.json`` is the same state as status.json. Every other method is refused
(405); every other path is 404. Served from its own thread: a slow browser never holds up trading.
"""
from __future__ import annotations

import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from loguru import logger

from runner.errors import UserInputError
from runner.paper.status_file import SessionStatus

HOST = "127.0.0.1"

_STYLE = """body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}h1{font-size:1.3em}
h2{font-size:1.05em;margin-top:1.4em}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;
padding:3px 10px;text-align:left}th{background:#f4f4f4}.lost{color:#b00020;font-weight:bold}
.ok{color:#1b7f3b;font-weight:bold}.muted{color:#777}"""


def render_page(state: dict) -> str:
    e = html.escape
    conn = state["connection"]
    css = "ok" if conn["state"] in ("connected", "reconnected", "restored") else "lost"
    pnl = state["pnl"]

    def money(v):
        return "n/a" if v is None else f"{v:+,.2f}"

    def table(rows, columns, empty):
        if not rows:
            return f'<p class="muted">{e(empty)}</p>'
        head = "".join(f"<th>{e(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{e('' if r.get(c) is None else str(r.get(c)))}</td>" for c in columns)
                       + "</tr>" for r in rows)
        return f"<table><tr>{head}</tr>{body}</table>"

    bars = [{"feed": k, **v, "stale": "since " + state["stale_feeds"][k]["since"] if k in state.get("stale_feeds", {})
             else ""} for k, v in state["last_bar"].items()]
    positions = [{"symbol": k, **v} for k, v in state["positions"].items()]
    return f"""<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>flowbot paper: {e(state['run'])}</title><style>{_STYLE}</style></head><body>
<h1>flowbot paper: {e(state['run'])} <span class="muted">({e(state['state'])})</span></h1>
<p id="connection">Connection: <span class="{css}">{e(conn['state'])}</span> since {e(conn['since'])}
{e(conn.get('message') or '')}</p>
<p id="pnl">P&amp;L {e(money(pnl['total']))} (realised {e(money(pnl['realised']))}); value
{e(money(pnl['value']).lstrip('+'))}</p>
<p class="muted">updated {e(state['updated'])}{' · stopped: ' + e(state['stop_reason']) if state['stop_reason'] else ''}</p>
<h2>Last bar</h2>{table(bars, ['feed', 'bar_size', 'time', 'close', 'stale'], 'no live bar yet')}
<h2>Positions</h2>{table(positions, ['symbol', 'size', 'price'], 'flat')}
<h2>Working orders</h2>{table(state['working_orders'], ['strategy', 'symbol', 'side', 'type', 'size', 'limit_price',
                                                     'stop_price', 'status', 'reason', 'order_ref'], 'none')}
<h2>Fills</h2>{table(list(reversed(state['fills'])), ['time', 'strategy', 'symbol', 'side', 'filled_size',
                                                    'fill_price', 'commission', 'reason'], 'none yet')}
<h2>Events</h2>{table(list(reversed(state['events'])), ['time', 'kind', 'text'], 'none yet')}
</body></html>"""


class StatusPage:
    """The HTTP server; ``start()`` binds 127.0.0.1:``port`` (0 = any free port) and serves in a thread."""

    def __init__(self, status: SessionStatus, port: int) -> None:
        self.status = status
        self.requested_port = port
        self.server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1] if self.server is not None else self.requested_port

    def start(self) -> "StatusPage":
        status = self.status

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                path = self.path.split("?", 1)[0]
                if path == "/":
                    self._answer(200, "text/html; charset=utf-8", render_page(status.snapshot()))
                elif path == "/status.json":
                    self._answer(200, "application/json", json.dumps(status.snapshot(), default=str))
                else:
                    self._answer(404, "text/plain; charset=utf-8", "not found\n")

            def _refuse(self):
                self._answer(405, "text/plain; charset=utf-8", "read-only: GET only\n", allow=True)

            do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_TRACE = do_CONNECT = _refuse

            def _answer(self, code: int, kind: str, text: str, allow: bool = False):
                data = text.encode("utf-8")
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                if allow:
                    self.send_header("Allow", "GET")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def log_message(self, fmt, *args):   # requests at DEBUG, not on the console
                logger.debug("status page: " + fmt % args)

        try:
            self.server = ThreadingHTTPServer((HOST, self.requested_port), Handler)
        except OSError as exc:
            raise UserInputError(f"--status-port {self.requested_port}: cannot listen on {HOST}:"
                                 f"{self.requested_port} ({exc.strerror or exc}); choose another port") from None
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="status-page", daemon=True)
        self._thread.start()
        logger.info(f"status page on http://{HOST}:{self.port}/ (read-only)")
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
