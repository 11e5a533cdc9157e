"""`flowbot config check` warns when the paper risk limits size every entry to nothing (issue 10, defect 7)."""
from pathlib import Path

from runner.cli import main

PAPER = Path(__file__).resolve().parents[2] / "config" / "paper.yaml"


def test_the_shipped_limits_leave_room_for_a_trade(capsys):
    assert main(["config", "check", str(PAPER)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_limits_below_one_share_are_warned_about_naming_the_playbook_and_key(capsys):
    code = main(["config", "check", str(PAPER), "--set", "risk.max_position_value=1000",
                 "--set", "risk.max_daily_loss=20"])
    err = capsys.readouterr().err
    assert code == 0, "a warning, not an error: the config is valid"
    assert "strategies[0] december_fade (SPY): risk.max_position_value 1,000 is below one share" in err
    assert "strategies[1] january_snapback (IWM): risk.max_daily_loss 20 is below the loss of one share" in err
    assert err.count("warning:") == 4
