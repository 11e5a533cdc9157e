"""A NUL byte in a path option (possible from Python: ``runner.cli.main([...])``, the API) is refused by the
parser naming the option; --out, fetch --cache, pressure --html, new --folder crashed with exit 1."""
from __future__ import annotations

from pathlib import Path

import pytest

from hardening_probe import refuse

SWEEP = Path(__file__).resolve().parents[2] / "config" / "sweeps" / "december_fade.yaml"


@pytest.mark.parametrize("args, option", [
    (["backtest", "--strategy", "december_fade", "--out", "a\x00b"], "--out"),
    (["backtest", "--strategy", "december_fade", "--out", "\x00"], "--out"),
    (["optimize", "-c", str(SWEEP), "--out", "runs/\x00"], "--out"),
    (["fetch", "--symbol", "SPY", "--start", "2024-01-02", "--cache", "c\x00", "--set", "ib.port=9"], "--cache"),
    (["pressure", "--html", "a\x00.html"], "--html"),
    (["new", "playbook", "ok_name", "--folder", "a\x00"], "--folder"),
])
def test_a_nul_byte_in_a_path_option_is_refused_naming_it(args, option, tmp_path, capsys, monkeypatch):
    message = refuse(args, tmp_path, tmp_path, capsys, monkeypatch, option)
    assert option in message and "NUL" in message, message


CONTROL = ["a\nb", "runs\t1", "x\ry", "bell\x07", "del\x7f"]


# (A --set value is YAML: a line break inside a plain scalar folds to a space there, as in a config file.)
@pytest.mark.parametrize("where, value", [("--out", v) for v in CONTROL]
                         + [("--set output.folder", v) for v in CONTROL if "\n" not in v and "\r" not in v])
def test_a_control_character_in_a_path_is_refused_and_nothing_is_made(value, where, tmp_path, capsys, monkeypatch):
    """A newline or tab made a folder nobody can name in a shell or read in a log line."""
    args = ["backtest", "--strategy", "december_fade"]
    args += ["--out", value] if where == "--out" else ["--set", f"output.folder={value}"]
    message = refuse(args, tmp_path, tmp_path, capsys, monkeypatch, where.split()[-1])
    assert "control characters" in message, message
    assert not [p for p in tmp_path.iterdir() if any(ord(c) < 32 or ord(c) == 127 for c in p.name)]
