"""``status.json`` of a paper run: the session's state now, rewritten atomically on every event.

Shape (every key always present)::

    {"run": name, "folder": path, "state": "starting|live|stopped", "updated": ISO time with zone,
     "connection": {"state": "connected|lost|restored|...", "since": ISO, "message": str},
     "last_bar": {feed: {"time": ISO (completion, New York), "bar_size": "1d", "close": float}},
     "stale_feeds": {feed: {"since": ISO (end of its last real-time bar, New York), "detected": ISO,
                            "message": str}},   # real-time bars stopped with no error; gone once flowing
     "positions": {symbol: {"size": float, "price": float}},
     "working_orders": [{"order_ref", "strategy", "symbol", "side", "type", "size", "limit_price",
                         "stop_price", "status", "reason"}],
     "fills": [last 50 order rows with a fill], "trades": [closed and open trades],
     "pnl": {"value": float, "start_value": float, "total": float, "realised": float},
     "stop_reason": str | null, "events": [last 20 {"time", "kind", "text"}]}

:func:`latest_paper_run` finds the newest paper run folder for ``flowbot status``.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from pathlib import Path

from runner.report.run_folder import write_text

STATUS_FILE = "status.json"
FILLS_KEPT, EVENTS_KEPT = 50, 20


def now_text() -> str:
    """The wall clock, with its zone (the machine's local zone)."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


class SessionStatus:
    """The state shown by status.json, ``flowbot status`` and the status page; thread-safe."""

    def __init__(self, run: str, folder: Path | None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self._lock = threading.Lock()
        self._state: dict = {
            "run": run, "folder": str(folder) if folder is not None else None, "state": "starting",
            "updated": now_text(), "connection": {"state": "connecting", "since": now_text(), "message": ""},
            "last_bar": {}, "stale_feeds": {}, "positions": {}, "working_orders": [], "fills": [], "trades": [],
            "pnl": {"value": None, "start_value": None, "total": None, "realised": 0.0},
            "stop_reason": None, "events": [],
        }
        self.write()

    def update(self, **changes) -> None:
        """Replace top-level keys (a dict value replaces the old one whole) and rewrite the file."""
        with self._lock:
            self._state.update(changes)
            self._state["updated"] = now_text()
        self.write()

    def merge(self, key: str, name: str, value) -> None:
        """Set one entry of a mapping key (e.g. one feed's last bar)."""
        with self._lock:
            self._state[key][name] = value
            self._state["updated"] = now_text()
        self.write()

    def drop(self, key: str, name: str) -> None:
        """Remove one entry of a mapping key (e.g. a feed no longer stale)."""
        with self._lock:
            self._state[key].pop(name, None)
            self._state["updated"] = now_text()
        self.write()

    def add_fill(self, row: dict) -> None:
        with self._lock:
            self._state["fills"] = [*self._state["fills"], row][-FILLS_KEPT:]
        self.write()

    def add_event(self, kind: str, text: str) -> None:
        with self._lock:
            self._state["events"] = [*self._state["events"], {"time": now_text(), "kind": kind, "text": text}
                                     ][-EVENTS_KEPT:]
            self._state["updated"] = now_text()
        self.write()

    def snapshot(self) -> dict:
        with self._lock:
            return copy.deepcopy(self._state)

    def write(self) -> None:
        if self.folder is None:
            return
        with self._lock:
            text = json.dumps(self._state, indent=2, default=str, allow_nan=False)
            write_text(self.folder / STATUS_FILE, text + "\n")   # temporary name, then renamed


def read_status(folder: Path) -> dict:
    """A run folder's status.json, through the checked reader of run files (kind and size first; bad bytes,
    NaN, deep nesting or a non-object refused with a UserInputError naming the file)."""
    from runner.config_files import read_json_file

    return read_json_file(Path(folder) / STATUS_FILE, "status file of flowbot paper",
                          "flowbot status reads the status.json a paper session writes")


def latest_paper_run(logs: Path) -> Path | None:
    """The newest folder under ``logs`` that holds a paper run's status.json (by the folder's stamp)."""
    logs = Path(logs)
    if not logs.is_dir():
        return None
    runs = [p for p in logs.iterdir() if p.is_dir() and "-paper-" in p.name and (p / STATUS_FILE).exists()]
    return max(runs, key=lambda p: (p.name[:15], (p / STATUS_FILE).stat().st_mtime)) if runs else None
