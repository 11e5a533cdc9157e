"""Messages: one line, long values cut wherever the message was made, the option a value came from."""
import errno

import pytest

from hardening_probe import assert_one_clean_error, run_cli
from runner import cli

MINI = """name: t
strategies:
  - name: december_fade
    symbol: SPX
    data: sample:sp500
"""


@pytest.mark.parametrize("args", [
    ["config", "check", "c.yaml", "--set", "a" * 5000 + "=1"],                          # a long key
    ["config", "check", "c.yaml", "--set", "strategies.0.params.rally_pct=" + "x" * 5000],
    ["backtest", "-c", "c.yaml", "--strategy", "y" * 3000],
    ["backtest", "-c", "c.yaml", "--data", "z" * 300 + ".csv"],                          # too long a file name
    ["config", "check", "q" * 400 + ".yaml"],
])
def test_long_values_are_cut_in_the_one_message(args, tmp_path, capsys, monkeypatch):
    (tmp_path / "c.yaml").write_text(MINI)
    code, _, err, made = run_cli(args, tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert len(message) < 700, message
    assert "characters)" in message          # the cut says how long the value was
    assert made == set()


def test_set_errors_name_the_option_not_a_line_of_the_file(tmp_path, capsys, monkeypatch):
    (tmp_path / "c.yaml").write_text(MINI + "    params: {rally_pct: 1.5}\n")
    for setting in ("strategies.0.params.rally_pct=yes", "strategies.december_fade.params.rally_pct=-2",
                    "broker.cash=.inf", "start=2018-02-30", "broker.cash=1e13"):
        code, _, err, _ = run_cli(["config", "check", "c.yaml", "--set", setting], tmp_path, capsys, monkeypatch)
        message = assert_one_clean_error(code, err)
        assert message.startswith(f"error: --set {setting}"), message
        assert "(line" not in message, message


def test_control_characters_are_shown_not_sent_to_the_terminal(tmp_path, capsys, monkeypatch):
    (tmp_path / "c.yaml").write_text(MINI + 'start: "\\e[31mred\\x07"\n')
    code, _, err, _ = run_cli(["config", "check", "c.yaml"], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(code, err)
    assert "\x1b" not in message and "\x07" not in message and "red" in message


@pytest.mark.parametrize("number, code", [(errno.ENAMETOOLONG, 2), (errno.EACCES, 2), (errno.ENOTDIR, 2),
                                          (errno.EROFS, 2), (errno.ENOSPC, 1)])
def test_an_os_error_no_check_caught_is_one_line(number, code, tmp_path, capsys, monkeypatch):
    """The backstop in main: a path problem is the user's input (2); a full disk is not (1), and no traceback."""
    def failing(args):
        raise OSError(number, "simulated", str(tmp_path / "some" / "file.csv"))

    monkeypatch.setattr(cli, "_config_check", failing)
    (tmp_path / "c.yaml").write_text(MINI)
    monkeypatch.chdir(tmp_path)
    got = cli.main(["config", "check", "c.yaml"])
    err = capsys.readouterr().err
    message = assert_one_clean_error(got, err, expect=code)
    assert "file.csv" in message


def test_crash_message_names_the_crash_log_it_wrote(tmp_path, capsys, monkeypatch):
    def broken(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "_config_check", broken)
    (tmp_path / "c.yaml").write_text(MINI + "output: {folder: elsewhere}\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["config", "check", "c.yaml"]) == 1
    err = capsys.readouterr().err
    crash_log = tmp_path / "logs" / "flowbot-crash.log"
    assert f"the traceback is in {crash_log}" in err
    assert "ZeroDivisionError: a bug" in crash_log.read_text()
    assert "Traceback" not in err


def test_help_of_each_command_shows_a_set_example_of_its_own_file(capsys):
    for command, example in (("pressure", "mixes="), ("fetch", "ib.port="), ("backtest", "strategies.")):
        assert cli.main([command, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        assert f"e.g. {example}" in text, (command, text)
    assert cli.main(["pressure", "--help"]) == 0
    assert "strategies.december_fade" not in capsys.readouterr().out


@pytest.mark.parametrize("settings, expected", [
    (["start=2019-01-01", "end=2018-01-01"], "with --set start=2019-01-01, --set end=2018-01-01: start"),
    (["strategies.0.label=january_snapback"], "with --set strategies.0.label=january_snapback: strategy names"),
])
def test_cross_key_errors_name_the_set_options_involved(settings, expected, tmp_path, capsys, monkeypatch):
    (tmp_path / "c.yaml").write_text(MINI + "  - name: january_snapback\n    symbol: COMP\n    data: sample:nasdaq\n")
    args = ["config", "check", "c.yaml"] + [a for s in settings for a in ("--set", s)]
    code, _, err, _ = run_cli(args, tmp_path, capsys, monkeypatch)
    assert expected in assert_one_clean_error(code, err)
