"""Run the CLI in-process as a user would, in a folder of its own, and see what it printed and wrote."""
from __future__ import annotations

import os
from pathlib import Path

from runner.cli import main


def tree(root: Path) -> set[str]:
    """Every file and folder under ``root``, relative to it."""
    found = set()
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            found.add(os.path.relpath(os.path.join(folder, name), root))
    return found


def run_cli(args: list[str], cwd: Path, capsys, monkeypatch) -> tuple[int, str, str, set[str]]:
    """(exit code, stdout, stderr, paths created under ``cwd``) of ``flowbot ARGS`` run in ``cwd``."""
    monkeypatch.chdir(cwd)
    before = tree(cwd)
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err, tree(cwd) - before


def error_lines(err: str) -> list[str]:
    """The lines of stderr that are messages to the user (not log lines with a time stamp)."""
    return [line for line in err.splitlines() if line.startswith(("error:", "failed:", "unexpected error:"))]


def assert_one_clean_error(code: int, err: str, *, expect: int = 2) -> str:
    """Exit ``expect``, exactly one message, no traceback; return the message."""
    assert code == expect, err
    assert "Traceback" not in err, err
    lines = error_lines(err)
    assert len(lines) == 1, err
    return lines[0]


def refuse(args: list[str], case: Path, root: Path, capsys, monkeypatch, described: str) -> str:
    """Run ``flowbot ARGS`` in ``case``: exit 2, one message, no traceback, nothing written under ``root``."""
    monkeypatch.chdir(case)
    before = tree(root)
    capsys.readouterr()
    code = main([str(a) for a in args])
    _, err = capsys.readouterr()
    try:
        message = assert_one_clean_error(code, err)
        assert tree(root) == before, sorted(tree(root) ^ before)
    except AssertionError as exc:
        raise AssertionError(f"case {described!r}: {args[:8]} -> exit {code}: {err[-600:]!r} ({exc})") from None
    assert len(message) < 1100, (described, message)
    return message
