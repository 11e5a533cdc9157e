"""Arguments a careless user gives: refused with exit 2 and one message, before anything is created."""
import socket
from pathlib import Path

import pytest

from hardening_probe import assert_one_clean_error, run_cli


@pytest.mark.parametrize("duration", ["inf", "-inf", "-5", "nan", "0", "1e400", "abc", "", "400000000"])
def test_paper_duration(duration, tmp_path, capsys, monkeypatch):
    code, _, err, made = run_cli(["paper", "--duration", duration], tmp_path, capsys, monkeypatch)
    assert "--duration" in assert_one_clean_error(code, err)
    assert made == set()


@pytest.mark.parametrize("port", ["abc", "-5", "70000", "99999999", "1.5", "80"])
def test_gateway_sim_bad_port(port, tmp_path, capsys, monkeypatch):
    code, _, err, made = run_cli(["gateway-sim", "--port", port], tmp_path, capsys, monkeypatch)
    assert "--port" in assert_one_clean_error(code, err)
    assert made == set()


def test_gateway_sim_busy_port(tmp_path, capsys, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err, made = run_cli(["gateway-sim", "--port", str(port)], tmp_path, capsys, monkeypatch)
    assert "in use" in assert_one_clean_error(code, err)
    assert made == set()


@pytest.mark.parametrize("fault", ["bogus@3", "drop@x", "drop@-1", "restart@5:abc", "reject@1:-3", "drop", "@",
                                   "drop@inf", "drop@nan", "clientid@1:x", "1100@1e400", "x" * 3000,
                                   "stall@1:S P Y", "stall@x"])
def test_gateway_sim_malformed_fault(fault, tmp_path, capsys, monkeypatch):
    code, _, err, made = run_cli(["gateway-sim", "--port", "0", "--fault", fault], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert "--fault" in message and len(message) < 700
    assert made == set()


@pytest.mark.parametrize("out, expected", [
    ("afile", "exists and is not a folder"), ("afile/sub", "afile is a file, not a folder"),
    ("/dev/null", "exists and is not a folder"), ("full", "the folder is not empty"),
    ("/proc/flowbot-test", "cannot write there"),
])
def test_backtest_out_that_cannot_hold_a_run(out, expected, tmp_path, capsys, monkeypatch):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old-results.csv").write_text("keep me")
    code, _, err, made = run_cli(["backtest", "--strategy", "december_fade", "--out", out], tmp_path, capsys,
                                 monkeypatch)
    assert expected in assert_one_clean_error(code, err)
    assert made == set()
    assert (tmp_path / "full" / "old-results.csv").read_text() == "keep me"


@pytest.mark.parametrize("setting", ["--out", "output.folder"])
def test_a_read_only_folder(setting, tmp_path, capsys, monkeypatch):
    """As root every folder is writable, so the refusal of the system is simulated where the probe writes."""
    real = Path.write_bytes

    def read_only(self, data):
        if self.name == ".flowbot-write-test":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", read_only)
    args = ["backtest", "--strategy", "december_fade"]
    args += ["--out", "ro/run"] if setting == "--out" else ["--set", "output.folder=ro"]
    (tmp_path / "ro").mkdir()
    code, _, err, made = run_cli(args, tmp_path, capsys, monkeypatch)
    assert "cannot write there (Permission denied)" in assert_one_clean_error(code, err)
    assert made == set(), made   # ro/ was there before; nothing is left in it


@pytest.mark.parametrize("args, command", [
    (["optimize", "-c", "s.yaml", "--set", "a=1"], "flowbot optimize"), (["backtest", "extra"], "flowbot backtest"),
    (["config", "check", "c.yaml", "--bogus"], "flowbot config check"), (["list", "--nope"], "flowbot list"),
    (["gateway-sim", "--port=0", "x", "y"], "flowbot gateway-sim"),
])
def test_an_argument_left_over_is_named_with_its_command(args, command, tmp_path, capsys, monkeypatch):
    code, _, err, made = run_cli(args, tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert f"{command}: unrecognized argument(s)" in message and f"see {command} --help" in message, message
    assert made == set()
