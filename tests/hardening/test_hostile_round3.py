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


@pytest.fixture
def no_gateway_starts(monkeypatch):
    """An accepted value would start a replay: make that a failure, not a hang."""
    from runner.sim import cli_entry

    class Refused(cli_entry.SimulatedGateway):
        def start(self, *args, **kwargs):
            raise AssertionError("gateway-sim accepted the value and started")

    monkeypatch.setattr(cli_entry, "SimulatedGateway", Refused)


@pytest.mark.parametrize("port", ["7496", "4001", "04001", "+7496"])
def test_gateway_sim_refuses_the_live_trading_ports(port, tmp_path, capsys, monkeypatch, no_gateway_starts):
    message = refuse(["gateway-sim", "--port", port, "--speed", "0"], tmp_path, tmp_path, capsys, monkeypatch, port)
    assert "--port" in message and "live" in message, message


@pytest.mark.parametrize("fault", ["restart@10:", "reject@1:", "pacing@0:", "clientid@5:", "stall@3:", "drop@10:",
                                   "1100@2:"])
def test_gateway_sim_refuses_a_fault_cut_off_after_the_colon(fault, tmp_path, capsys, monkeypatch,
                                                             no_gateway_starts):
    message = refuse(["gateway-sim", "--port", "0", "--speed", "0", "--fault", fault], tmp_path, tmp_path, capsys,
                     monkeypatch, fault)
    assert "--fault" in message and "':'" in message, message


@pytest.mark.parametrize("start", ["2018-12-0" + "1" * 450, "2018-12-011", "2018-12-01111111", "2018120", "20181203",
                                   "2018-12-03T1", "2018-12-03 10:00:00:00", "2018-W49-1"])
def test_gateway_sim_start_is_read_only_in_its_written_forms(start, tmp_path, capsys, monkeypatch,
                                                            no_gateway_starts):
    """``datetime.fromisoformat`` read '2018-12-0111...' as 2018-12-01 11:11:11.1, and the replay then failed
    without naming --start."""
    message = refuse(["gateway-sim", "--port", "0", "--speed", "0", "--start", start], tmp_path, tmp_path, capsys,
                     monkeypatch, start)
    assert "--start" in message, message


@pytest.mark.parametrize("symbol", [" spy", "spy ", "\tSPY", "SPY\n"])
def test_fetch_refuses_a_symbol_with_surrounding_blanks(symbol, tmp_path, capsys, monkeypatch):
    """A config's symbol ' spy' is refused; fetch trimmed it quietly (and then asked IB for it)."""
    message = refuse(["fetch", "--symbol", symbol, "--start", "2024-01-02", "--set", "ib.port=9", "--cache", "cache"],
                     tmp_path, tmp_path, capsys, monkeypatch, symbol)
    assert "symbol" in message, message
