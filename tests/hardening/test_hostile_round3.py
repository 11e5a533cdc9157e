"""Inputs found by a third hostile round (issue 12) that got through: each refused with exit 2, one message,
no traceback, nothing written.

- a NUL byte in a path key of the YAML (``"a\\0b"`` in double quotes) crashed with exit 1 when the OS refused
  the name; every Path key of the run config now refuses it, naming the key and its line;
- ``gateway-sim --port 7496`` / ``4001`` listened on IB's live-trading ports (``flowbot paper`` refuses them,
  so such a simulator only waits for a real client that expects a live account);
- ``--fault restart@10:`` (cut off after the ':') was taken as the default argument.
"""
from __future__ import annotations

import pytest

from hardening_probe import refuse

CONFIG = """name: nul
strategies:
  - name: december_fade
    symbol: SPX
    data: {data}
{extra}"""


@pytest.mark.parametrize("data, extra, key", [
    ("sample:sp500", 'output: {folder: "a\\0b"}\n', "output.folder"),
    ("sample:sp500", 'output: {folder: "\\0"}\n', "output.folder"),
    ("sample:sp500", 'output: {folder: "logs/\\0/x"}\n', "output.folder"),
    ('{path: "bars\\0.csv"}', "", "data.path"),
    ('{path: "\\0"}', "", "data.path"),
])
@pytest.mark.parametrize("command", ["backtest", "config"])
def test_a_nul_byte_in_a_path_key_is_refused_naming_the_key(data, extra, key, command, tmp_path, capsys,
                                                             monkeypatch):
    (tmp_path / "c.yaml").write_text(CONFIG.format(data=data, extra=extra))
    args = ["backtest", "-c", "c.yaml"] if command == "backtest" else ["config", "check", "c.yaml"]
    message = refuse(args, tmp_path, tmp_path, capsys, monkeypatch, key)
    assert "c.yaml" in message and key in message and "NUL" in message, message
