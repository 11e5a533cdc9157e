"""Commands besides backtest: what a user can point them at must end in one message and exit 2."""
from __future__ import annotations

import json

import pytest

from hardening_probe import assert_one_clean_error, run_cli, tree


@pytest.mark.parametrize("folder, expected", [("/proc", "/proc"), ("/proc/self/x", "/proc/self/x"),
                                              ("/dev/null/x", "Not a directory"), ("/sys/flowbot", "/sys/flowbot")])
def test_new_playbook_into_a_folder_that_cannot_hold_files(folder, expected, tmp_path, capsys, monkeypatch):
    code, _, err, made = run_cli(["new", "playbook", "my_fade", "--folder", folder, "--no-golden"], tmp_path, capsys,
                                 monkeypatch)
    message = assert_one_clean_error(code, err)
    assert "cannot write its files into --folder" in message and expected in message, message
    assert made == set()


def test_new_playbook_that_fails_half_way_leaves_nothing(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    real = Path.write_text
    calls = []

    def full_disk(self, *a, **k):
        calls.append(self)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "write_text", full_disk)
    code, _, err, made = run_cli(["new", "playbook", "my_fade", "--folder", "a/b", "--no-golden"], tmp_path, capsys,
                                 monkeypatch)
    assert "No space left on device" in assert_one_clean_error(code, err)
    assert made == set(), made


@pytest.mark.parametrize("name", ["a" * 65, "x" * 300, "my-fade", "My_fade", "_x", "import", "ä"])
def test_new_playbook_names(name, tmp_path, capsys, monkeypatch):
    code, _, err, made = run_cli(["new", "playbook", name, "--no-golden"], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert "snake_case" in message and len(message) < 300 and made == set(), message


@pytest.mark.parametrize("status", [[], [1, 2], "text", 5, {"positions": 5}, {"connection": None},
                                    {"run": "x", "state": "running", "stop_reason": None, "folder": "f", "updated": "u",
                                     "connection": {"state": "up", "since": "s"}, "pnl": {"total": "x"}}])
def test_status_of_a_file_flowbot_did_not_write(status, tmp_path, capsys, monkeypatch):
    (tmp_path / "logs" / "p").mkdir(parents=True)
    (tmp_path / "logs" / "p" / "status.json").write_text(json.dumps(status))
    code, _, err, made = run_cli(["status", "logs/p"], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert "status.json" in message and made == set(), message


@pytest.mark.parametrize("body", ["raise SystemExit(7)\n", "import sys\nsys.exit('bye')\n", "raise KeyError('k')\n"])
def test_a_user_playbook_that_exits_while_imported(body, tmp_path, capsys, monkeypatch):
    (tmp_path / "pb").mkdir()
    (tmp_path / "pb" / "exits_early.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path / "pb"))
    before = tree(tmp_path)
    code, _, err, _ = run_cli(["list", "--playbooks-path", "pb"], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert "exits_early" in message and "line" in message, message
    assert tree(tmp_path) == before
