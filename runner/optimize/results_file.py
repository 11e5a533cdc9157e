"""``results.csv`` of a sweep: one row per finished run, appended and flushed as runs finish.

Read back with values parsed (numbers, true/false, null); a line a crash cut
short is dropped.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from runner.errors import UserInputError


class ResultsFile:
    """results.csv, one row per finished run, appended and flushed as runs finish."""

    def __init__(self, path: Path, columns: list[str]):
        self.path, self.columns = path, columns
        self.rows: list[dict] = read_results(path, columns) if path.exists() else []
        # Rewrite what was read: a crash may have left half a line at the end.
        self._handle = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=columns, extrasaction="ignore")
        self._writer.writeheader()
        for row in self.rows:
            self._writer.writerow(_cells(row))
        self._handle.flush()

    def append(self, row: dict) -> None:
        self.rows.append(row)
        self._writer.writerow(_cells(row))
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def _cells(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if value is None:
            out[key] = ""
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (list, dict)):
            out[key] = json.dumps(value)
        else:
            out[key] = value
    return out


def read_results(path: Path, columns: list[str] | None = None) -> list[dict]:
    """Rows of a results.csv with values parsed back (numbers, true/false, null); partial rows dropped."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if columns is not None and reader.fieldnames != columns:
            raise UserInputError(f"{path}: its columns do not match this sweep; it was written by a different "
                                 f"sweep or version (start a new run folder)")
        rows = []
        for raw in reader:
            if None in raw or any(v is None for v in raw.values()) or raw.get("seconds") in ("", None):
                continue   # a line cut short by a crash
            rows.append({k: _parse(v) for k, v in raw.items()})
    return rows


def _parse(text: str):
    if text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"True": True, "False": False}.get(text, text)
