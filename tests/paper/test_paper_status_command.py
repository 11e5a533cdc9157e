"""`flowbot status [RUN]` and the live files' open-position rows."""
import csv
import json

import pandas as pd

from runner.cli import main
from runner.paper.live_files import LiveRunLog
from runner.paper.status_file import SessionStatus


def paper_run(logs, stamp, name="year-end-paper", **state):
    folder = logs / f"{stamp}-paper-{name}"
    folder.mkdir(parents=True)
    status = SessionStatus(name, folder)
    if state:
        status.update(**state)
    return folder


def test_status_prints_the_newest_paper_run(tmp_path, capsys):
    logs = tmp_path / "logs"
    paper_run(logs, "20261130-090000", positions={"SPY": {"size": -10, "price": 1.0}})
    (logs / "20261201-090000-backtest-x").mkdir()
    newest = paper_run(logs, "20261201-080000", state="live", positions={"IWM": {"size": 25.0, "price": 150.5}},
                       connection={"state": "lost", "since": "2026-12-01T09:00:00-05:00", "message": "1100"},
                       last_bar={"IWM": {"time": "2026-12-01T16:00:00-05:00", "bar_size": "1d", "close": 151.25}},
                       working_orders=[{"strategy": "january_snapback", "symbol": "IWM", "side": "sell", "size": 25,
                                        "type": "stop", "stop_price": 140.0, "status": "Accepted", "reason": "stop"}])
    assert main(["status", "--logs", str(logs)]) == 0
    out = capsys.readouterr().out
    assert str(newest) in out and "IWM        +25 at 150.50" in out
    assert "connection  lost since 2026-12-01T09:00:00-05:00 (1100)" in out
    assert "january_snapback: sell 25 IWM stop at 140.00 (stop, Accepted)" in out
    assert "close 151.25" in out and "SPY" not in out
    assert main(["status", str(newest), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["positions"]["IWM"]["size"] == 25.0


def test_status_without_a_paper_run_says_so(tmp_path, capsys):
    (tmp_path / "logs").mkdir()
    assert main(["status", "--logs", str(tmp_path / "logs")]) == 2
    assert "no paper run under" in capsys.readouterr().err
    assert main(["status", str(tmp_path)]) == 2
    assert "no status.json there" in capsys.readouterr().err


def test_an_open_position_is_listed_as_open_and_files_are_current_after_each_event(tmp_path):
    log = LiveRunLog(folder=tmp_path, last_close=lambda symbol: 101.0)
    when = pd.Timestamp("2026-12-21 09:30", tz="America/New_York")
    log.add_fill("december_fade", "SPY", when, -100, 100.0, 1.0, "entry")
    log.orders.append({"time": when.isoformat(), "strategy": "december_fade", "symbol": "SPY", "order_id": 1,
                       "side": "sell", "type": "market", "size": 100, "status": "Completed", "filled_size": 100,
                       "fill_price": 100.0, "commission": 1.0, "reason": "entry"})
    # Nothing closed yet, nothing flushed by a close(): what a kill -9 would leave.
    with open(tmp_path / "orders.csv", newline="") as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["Completed"]
    with open(tmp_path / "trades.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert (row["exit_reason"], row["direction"], row["size"], row["exit_time"]) == ("open", "short", "100.0", "")
    assert float(row["pnl"]) == -101.0    # unrealised at the last close 101, less the commission
    log.add_fill("december_fade", "SPY", when + pd.Timedelta(days=3), 100, 98.0, 1.0, "time_exit")
    log.close()
    with open(tmp_path / "trades.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["exit_reason"] == "time_exit" and float(row["pnl"]) == 198.0
