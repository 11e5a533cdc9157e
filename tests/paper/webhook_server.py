"""A local webhook receiver on 127.0.0.1 for the notification tests: records bodies, or fails, or hangs."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookServer:
    """``mode``: ``ok`` (200), ``fail`` (500), ``hang`` (answers only once ``release`` is set) or ``trickle``
    (sends its answer a byte at a time, each well within any socket timeout, until ``release``)."""

    def __init__(self, mode: str = "ok"):
        self.mode = mode
        self.bodies: list[dict] = []
        self.release = threading.Event()
        received = self.bodies
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                if server_self.mode == "hang":
                    server_self.release.wait(60)
                if server_self.mode == "trickle":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    while not server_self.release.wait(0.2):
                        self.wfile.write(b"X")   # a header line that never ends
                        self.wfile.flush()
                    return
                code = 500 if server_self.mode == "fail" else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[str]:
        return [b.get("event") for b in list(self.bodies)]
