"""``results.csv`` of a sweep: one row per finished run, appended and flushed as runs finish.

Read back with values parsed (numbers, true/false, null); a line a crash cut
short is dropped.
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from runner.errors import UserInputError
from runner.inputs import MAX_DATA_BYTES, check_input_file, shown


class ResultsFile:
    """results.csv, one row per finished run, appended and flushed as runs finish.

    Finished rows are never rewritten in place: a resumed file is appended to;
    a file a crash left with a cut line is first repaired into a new file that
    replaces the old one by a rename, so a failure at any moment (a full disk)
    keeps every row saved before.
    """

    def __init__(self, path: Path, columns: list[str]):
        self.path, self.columns = path, columns
        self.rows: list[dict] = []
        self.dropped = 0   # lines of an earlier run's file that were cut short or damaged: their runs run again
        if path.exists() and path.stat().st_size > 0:
            self.rows = read_results(path, columns)
            if _saved_lines(path) != len(self.rows):
                self.dropped = max(_data_lines(path) - len(self.rows), 0)
                self._rewrite()
        else:
            self._rewrite()
        try:
            self._handle = path.open("a", encoding="utf-8", newline="")
        except OSError as exc:
            raise UserInputError(f"{path}: cannot append to the results ({exc.strerror or exc})") from None
        self._writer = csv.DictWriter(self._handle, fieldnames=columns, extrasaction="ignore")

    def _rewrite(self) -> None:
        """The header and the rows read, into a new file renamed over the old one."""
        partial = self.path.with_name(self.path.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=self.columns, extrasaction="ignore")
                writer.writeheader()
                for row in self.rows:
                    writer.writerow(_cells(row))
                handle.flush()
                os.fsync(handle.fileno())
            partial.replace(self.path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise UserInputError(f"{self.path}: cannot write the results ({exc.strerror or exc}); "
                                 f"the saved rows are untouched") from None

    def append(self, row: dict) -> None:
        self.rows.append(row)
        self._writer.writerow(_cells(row))
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def _saved_lines(path: Path) -> int:
    """Data lines of a results file that end with a newline (-1 when the last line is cut short)."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        return -1
    return _data_lines(path)


def _data_lines(path: Path) -> int:
    """Records of a results file after its header, a cut-short last one included."""
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


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
    check_input_file(path, "results file of flowbot optimize", MAX_DATA_BYTES)   # a FIFO would hang the reader
    try:
        return _read_rows(path, columns)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserInputError(f"{path}: not a results file of flowbot optimize ({exc}); start a new run "
                             f"folder") from None


def _read_rows(path: Path, columns: list[str] | None) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if columns is not None and reader.fieldnames != columns:
            raise UserInputError(f"{path}: its columns do not match this sweep; it was written by a different "
                                 f"sweep or version (start a new run folder)")
        rows = []
        for raw in reader:
            if None in raw or any(v is None for v in raw.values()) or raw.get("seconds") in ("", None):
                continue   # a line cut short by a crash
            row = {k: _parse(v) for k, v in raw.items()}
            if not isinstance(row.get("run"), int) or isinstance(row.get("run"), bool) or row["run"] < 0:
                raise UserInputError(f"{path}: line {reader.line_num}: run {shown(raw.get('run'))} is not a run "
                                     f"number; the file is damaged (start a new run folder)")
            rows.append(row)
    return rows


def _parse(text: str):
    if text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"True": True, "False": False}.get(text, text)
