"""The paper side of the hostile-user probe (issue 12): the ib: section's waits and history bounded (a
timeout of 1e300 overflowed the event loop's timers, exit 1), an account id that could name a path refused,
a blank journal path refused (Path('') is the current folder); gateway-sim's account, symbol, speed and
session pause checked; status.json read through the checked reader of run files (deep nesting crashed,
exit 1) and its text fields shown with control characters escaped."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hardening_probe import assert_one_clean_error, refuse, run_cli

ROOT = Path(__file__).resolve().parents[2]
PAPER = ROOT / "config" / "paper.yaml"


@pytest.mark.parametrize("setting, named", [
    ("ib.connect_timeout=1e300", "ib.connect_timeout"),
    ("ib.request_timeout=1e20", "ib.request_timeout"),
    ("ib.reconnect_give_up=1e300", "ib.reconnect_give_up"),
    ("ib.backoff_max=99999999", "ib.backoff_max"),
    ("ib.stale_exit_minutes=1e9", "ib.stale_exit_minutes"),
    ("ib.backfill_bars=1000000000", "ib.backfill_bars"),
    ("ib.backfill_bars={1d: 300, 1min: 99999999}", "ib.backfill_bars"),
    ("ib.account=../../x", "ib.account"),
    ("ib.account=DU1/2", "ib.account"),
    ('ib.journal=""', "ib.journal"),
    ('ib.journal="   "', "ib.journal"),
])
def test_ib_settings_out_of_bounds_are_refused(setting, named, tmp_path, capsys, monkeypatch):
    message = refuse(["config", "check", "-c", PAPER, "--set", setting], tmp_path, tmp_path, capsys, monkeypatch,
                     setting)
    assert f"--set {setting.split('=')[0]}" in message and named in message


def test_ib_settings_within_bounds_are_kept(tmp_path, capsys, monkeypatch):
    code, out, err, _ = run_cli(["config", "check", "-c", PAPER, "--set", "ib.connect_timeout=3600",
                                 "--set", "ib.account=DU1234567", "--set", "ib.backfill_bars=100000"],
                                tmp_path, capsys, monkeypatch)
    assert code == 0, err


@pytest.mark.parametrize("args, named", [
    (["--account", "../x"], "--account"),
    (["--account", ""], "--account"),
    (["--account", "DU 1"], "--account"),
    (["--symbol", ""], "--symbol"),
    (["--speed", "1e308"], "--speed"),
    (["--session-pause", "1e308"], "--session-pause"),
])
def test_gateway_sim_arguments_out_of_bounds_are_refused(args, named, tmp_path, capsys, monkeypatch):
    message = refuse(["gateway-sim", "--data", "sample:sp500", *args], tmp_path, tmp_path, capsys, monkeypatch,
                     " ".join(args))
    assert named in message


def paper_run_folder(root: Path, text: str) -> Path:
    folder = root / "logs" / "20261202-061500-paper-probe"
    folder.mkdir(parents=True)
    (folder / "status.json").write_text(text)
    return folder


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"pnl": NaN}', '{"a": 1e400}', "[1, 2]",
                                  "\xff\xfe{}", ""])
def test_a_status_file_flowbot_did_not_write_is_refused_naming_it(text, tmp_path, capsys, monkeypatch):
    folder = paper_run_folder(tmp_path, text)
    for extra in ([], ["--json"]):
        code, _, err, _ = run_cli(["status", folder, *extra], tmp_path, capsys, monkeypatch)
        assert "status.json" in assert_one_clean_error(code, err)


def test_escape_codes_in_a_status_file_are_shown_escaped(tmp_path, capsys, monkeypatch):
    state = {"run": "probe\x1b[2J", "state": "running", "stop_reason": None, "folder": "f", "updated": "now",
             "connection": {"state": "connected\x1b]0;owned\x07", "since": "now", "message": None},
             "pnl": {"total": 1.0, "realised": 0.0, "value": 100.0}, "last_bar": {}, "positions": {},
             "working_orders": [], "fills": [], "events": [{"time": "t", "kind": "note", "text": "\x1b[31mred"}]}
    folder = paper_run_folder(tmp_path, json.dumps(state))
    code, out, err, _ = run_cli(["status", folder], tmp_path, capsys, monkeypatch)
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J" in out and "\\x1b[31mred" in out
