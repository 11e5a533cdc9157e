"""Webhook notifications (fills, rejects, disconnects, risk stops), sent off the trading thread.

``notify: {webhook: URL}`` in the run config. :meth:`Notifier.send` only puts the message on a
bounded queue (``queue_size``) and returns at once; one worker thread POSTs each message as JSON
with ``timeout`` seconds per request in all (not per socket operation). A full queue drops the message (logged), an unreachable,
failing or hanging webhook is logged and skipped: trading never waits on a notification.

Bodies by ``format``:

- ``generic`` (default): ``{"event", "text", "run", "time"}`` plus ``"content"`` (= text), which a
  Discord webhook (``https://discord.com/api/webhooks/ID/TOKEN``) accepts as it is and a Slack one
  reads as ``text``;
- ``discord``: ``{"content": text}``;
- ``telegram``: ``{"chat_id": chat_id, "text": text}`` for the Bot API's ``sendMessage``
  (``https://api.telegram.org/bot<TOKEN>/sendMessage``).
"""
from __future__ import annotations

import json
import queue
import threading
import urllib.error
import urllib.request

from loguru import logger

from runner.paper.notify_config import NotifyConfig

#: Requests given up on (still hanging) at most; while this many hang, messages are dropped, not queued up.
MAX_ABANDONED = 4


def message_body(cfg: NotifyConfig, kind: str, text: str, run: str, when: str) -> dict:
    if cfg.format == "discord":
        return {"content": text}
    if cfg.format == "telegram":
        return {"chat_id": cfg.chat_id, "text": text}
    return {"event": kind, "text": text, "content": text, "run": run, "time": when}


class Notifier:
    """Sends messages to one webhook from a worker thread (see module docstring)."""

    def __init__(self, cfg: NotifyConfig, run: str) -> None:
        self.cfg = cfg
        self.run = run
        self.url = str(cfg.webhook)
        self.queue: queue.Queue = queue.Queue(maxsize=cfg.queue_size)
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self._abandoned: list[threading.Thread] = []   # requests given up on while still hanging
        self.log = logger.bind(component="paper.notify")
        self._thread = threading.Thread(target=self._work, name="notify", daemon=True)
        self._thread.start()

    def send(self, kind: str, text: str) -> None:
        """Queue a message; never blocks."""
        if kind not in self.cfg.events:
            return
        from runner.paper.status_file import now_text

        try:
            self.queue.put_nowait(message_body(self.cfg, kind, text, self.run, now_text()))
        except queue.Full:
            self.dropped += 1
            self.log.warning(f"notification queue full ({self.cfg.queue_size}); dropped: {text}")

    def close(self, wait: float = 2.0) -> None:
        """Let queued messages go for up to ``wait`` seconds, then stop the worker."""
        try:
            self.queue.put(None, timeout=wait)
        except queue.Full:
            return
        self._thread.join(wait)

    def _work(self) -> None:
        while True:
            body = self.queue.get()
            if body is None:
                return
            self._post(body)

    def _post(self, body: dict) -> None:
        """POST one message, ``timeout`` seconds at most in all: urllib's timeout bounds each socket
        operation only (a webhook trickling its answer, or a slow name lookup, would hold the worker for
        ever), so the request runs in a helper thread that is given up on at the deadline."""
        self._abandoned = [t for t in self._abandoned if t.is_alive()]
        if len(self._abandoned) >= MAX_ABANDONED:
            self.failed += 1
            self.log.warning(f"notification not sent: {len(self._abandoned)} earlier requests to the webhook are "
                             f"still hanging; trading goes on")
            return
        outcome: list[BaseException | None] = []
        helper = threading.Thread(target=lambda: outcome.append(self._request(body)), name="notify-post",
                                  daemon=True)
        helper.start()
        helper.join(self.cfg.timeout)
        if helper.is_alive():
            self._abandoned.append(helper)
            self.failed += 1
            self.log.warning(f"notification to the webhook gave no answer within {self.cfg.timeout:g} s; "
                             f"trading goes on")
        elif outcome and outcome[0] is None:
            self.sent += 1
        else:
            self.failed += 1
            self.log.warning(f"notification to the webhook failed ({outcome[0] if outcome else 'no outcome'}); "
                             f"trading goes on")

    def _request(self, body: dict) -> BaseException | None:
        data = json.dumps(body).encode()
        request = urllib.request.Request(self.url, data=data, method="POST",
                                         headers={"Content-Type": "application/json", "User-Agent": "flowbot"})
        try:
            with urllib.request.urlopen(request, timeout=self.cfg.timeout) as answer:
                answer.read()
            return None
        except Exception as exc:   # noqa: BLE001 - HTTPError, URLError, OSError, a bad answer: all one failure
            return exc
