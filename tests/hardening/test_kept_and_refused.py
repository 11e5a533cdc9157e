"""What a failed paper session keeps and says; data that can only give 0 trades; run windows beyond the
data; argument values argparse would drop; gateway-sim --start against the data it replays."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hardening_probe import assert_one_clean_error, error_lines, refuse, run_cli
from runner.errors import DataError, GatewayError
from runner.paper import session as paper_session

CONFIG = """name: t
strategies:
  - name: december_fade
    symbol: SPX
    data: {path: bars.csv}
output: {folder: runs}
"""


def write_bars(path: Path, sessions: int = 300, flat_from: int | None = None, price: float = 100.0,
               start: dt.date = dt.date(2010, 1, 4)) -> None:
    rows, day, value = ["Date,Open,High,Low,Close,Volume"], start, price
    while len(rows) <= sessions:
        if day.weekday() < 5:
            if flat_from is None or len(rows) - 1 < flat_from:
                value *= 1.004 if len(rows) % 3 else 0.993
            rows.append(f"{day},{value:.4f},{value:.4f},{value:.4f},{value:.4f},1000")
        day += dt.timedelta(days=1)
    path.write_text("\n".join(rows) + "\n")


# -- a paper session that fails once live keeps its folder and says where ------------------------------------

@pytest.mark.parametrize("error, code, label", [
    (GatewayError("lost the connection to IB gateway and could not reconnect"), 3, "failed:"),
    (DataError("SPX: the gateway sent a bar out of order"), 2, "error:"),
    (RuntimeError("a bug in the session"), 1, "unexpected error:"),
])
def test_a_paper_session_that_fails_after_going_live_keeps_its_folder(error, code, label, tmp_path, capsys,
                                                                      monkeypatch):
    def run(self):
        raise error

    def folder() -> Path:
        return next((tmp_path / "runs").iterdir())

    monkeypatch.setattr(paper_session.PaperSession, "start", lambda self: None)
    monkeypatch.setattr(paper_session.PaperSession, "run", run)
    (tmp_path / "c.yaml").write_text(CONFIG.replace("{path: bars.csv}", "sample:sp500"))
    got, _, err, made = run_cli(["paper", "-c", "c.yaml"], tmp_path, capsys, monkeypatch)
    assert got == code, err
    assert "Traceback" not in err
    lines = error_lines(err)
    assert len(lines) == 1 and lines[0].startswith(label), err
    kept = folder()
    assert f"what it wrote until then is kept in {Path('runs') / kept.name}" in lines[0], lines[0]
    assert "paper t: run folder" in (kept / "run.log").read_text()   # what it wrote is there


def test_a_paper_session_that_never_went_live_still_leaves_nothing(tmp_path, capsys, monkeypatch):
    def start(self):
        raise GatewayError("cannot reach IB gateway at 127.0.0.1:4002")

    monkeypatch.setattr(paper_session.PaperSession, "start", start)
    (tmp_path / "c.yaml").write_text(CONFIG.replace("{path: bars.csv}", "sample:sp500"))
    got, _, err, made = run_cli(["paper", "-c", "c.yaml"], tmp_path, capsys, monkeypatch)
    message = assert_one_clean_error(got, err, expect=3)
    assert "kept in" not in message
    assert not any(p.startswith("runs/") for p in made), made


# -- data that can only make 0 trades ------------------------------------------------------------------------

@pytest.mark.parametrize("flat_from, price, window", [
    (0, 100.0, []), (0, 0.5, []), (0, 2500.0, []),
    (150, 42.0, ["--start", "2010-09-01"]),      # flat only in the window asked for
    (100, 7.0, ["--start", "2011-01-03", "--end", "2011-02-28"]),
])
def test_bars_whose_price_never_moves_are_refused(flat_from, price, window, tmp_path, capsys, monkeypatch):
    write_bars(tmp_path / "bars.csv", flat_from=flat_from, price=price)
    (tmp_path / "c.yaml").write_text(CONFIG)
    message = refuse(["backtest", "-c", "c.yaml", *window], tmp_path, tmp_path, capsys, monkeypatch, str(flat_from))
    assert "bars.csv" in message and "has the same price" in message, message


def test_bars_that_move_a_little_still_run(tmp_path, capsys, monkeypatch):
    write_bars(tmp_path / "bars.csv", flat_from=290)   # the last ten sessions flat: the window moves
    (tmp_path / "c.yaml").write_text(CONFIG)
    code, _, err, _ = run_cli(["backtest", "-c", "c.yaml", "-q"], tmp_path, capsys, monkeypatch)
    assert code == 0, err


@pytest.mark.parametrize("window, said", [
    (["--start", "2005-01-03"], "days after start 2005-01-03"),
    (["--start", "1995-06-01", "--end", "2011-01-03"], "days after start 1995-06-01"),
    (["--end", "2020-06-30"], "days before end 2020-06-30"),
])
def test_a_window_beyond_the_data_is_said(window, said, tmp_path, capsys, monkeypatch):
    write_bars(tmp_path / "bars.csv")
    (tmp_path / "c.yaml").write_text(CONFIG)
    code, _, err, _ = run_cli(["backtest", "-c", "c.yaml", *window], tmp_path, capsys, monkeypatch)
    assert code == 0, err
    assert said in err and "WARNING" in err, err


# -- argument values argparse would silently drop --------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["paper", "--duration=--"], ["backtest", "--start=--"], ["backtest", "--out=--"], ["gateway-sim", "--port=--"],
    ["fetch", "--symbol=--", "--start=2024-01-02"], ["optimize", "--workers=--"], ["pressure", "--date=--"],
])
def test_a_value_of_two_dashes_is_refused(args, tmp_path, capsys, monkeypatch):
    message = refuse(args, tmp_path, tmp_path, capsys, monkeypatch, " ".join(args))
    assert f"argument {args[-1].split('=')[0] if '=--' in args[-1] else args[1].split('=')[0]}" in message
    assert "expected a value (got '--')" in message


# -- gateway-sim --start against the data it replays ---------------------------------------------------------

@pytest.mark.parametrize("start, inside", [
    ("2009-12-31", False), ("2010-01-04", True), ("2010-06-15 10:30", True), ("2011-02-14", True), ("2011-03-14", False),
    ("2012-06-01", False), ("1990-01-02", False),
])
def test_gateway_sim_start_must_be_inside_its_data(start, inside, tmp_path, capsys, monkeypatch):
    from runner.sim import cli_entry

    started = []

    class Recorded(cli_entry.SimulatedGateway):
        def start(self, *args, **kwargs):
            started.append(self.start_time)
            raise OSError(98, "stop here")   # refused as a busy port: exit 2, nothing served

    monkeypatch.setattr(cli_entry, "SimulatedGateway", Recorded)
    write_bars(tmp_path / "SPY.csv")   # 2010-01-04 .. 2011-02-25 (300 weekdays)
    message = refuse(["gateway-sim", "--port=0", "--data", "SPY.csv", f"--start={start}"], tmp_path, tmp_path,
                     capsys, monkeypatch, start)
    if inside:
        assert started and "cannot listen" in message, message
    else:
        assert not started
        assert "outside the data, which covers 2010-01-04 to 2011-02-25" in message, message


# -- gateway-sim --data: each symbol once, named plainly, from a source that exists ------------------------------

@pytest.mark.parametrize("data, expected", [
    ("=sample:sp500", "symbol '': expected 1 to 16 letters"),
    ("SPY=", "'SPY=' is not SYMBOL=SOURCE"),
    ("SPY=sample:sp500,,IWM=sample:nasdaq", "'' is not SYMBOL=SOURCE"),
    ("SPY=sample:sp500,SPY=sample:nasdaq", "symbol SPY is given twice (sample:sp500 and sample:nasdaq)"),
    ("spy=sample:sp500,SPY=sample:nasdaq", "symbol SPY is given twice"),
    ("../x=sample:sp500", "symbol '../x': expected"),
    ("SPY/IWM=sample:sp500", "symbol 'SPY/IWM'"),
    (",,,", "no such data file"),
    ("SPY=sample:nosuch", "unknown sample 'nosuch'"),
    ("folder", "symbol SPY is given twice"),
])
def test_gateway_sim_data_forms(data, expected, tmp_path, capsys, monkeypatch):
    if data == "folder":
        (tmp_path / "folder").mkdir()
        write_bars(tmp_path / "folder" / "SPY.csv")
        write_bars(tmp_path / "folder" / "spy.csv.gz".replace(".gz", ""), price=50.0)
    message = refuse(["gateway-sim", "--port=0", "--data", data], tmp_path, tmp_path, capsys, monkeypatch, data)
    assert expected in message, message


@pytest.mark.parametrize("delimiter", ["\\t", "tab", ";", "|"])
def test_gateway_sim_reads_other_separators_when_told(delimiter, tmp_path, capsys, monkeypatch):
    from runner.sim import cli_entry

    served = {}

    class Recorded(cli_entry.SimulatedGateway):
        def __init__(self, bars, **kwargs):
            served.update(bars)
            super().__init__(bars, **kwargs)

        def start(self, *args, **kwargs):
            raise OSError(98, "stop here")

    monkeypatch.setattr(cli_entry, "SimulatedGateway", Recorded)
    sep = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
    write_bars(tmp_path / "SPY.csv")
    (tmp_path / "SPY.csv").write_text((tmp_path / "SPY.csv").read_text().replace(",", sep))
    refuse(["gateway-sim", "--port=0", "--data", "SPY.csv", "--delimiter", delimiter], tmp_path, tmp_path, capsys,
           monkeypatch, delimiter)
    assert list(served) == ["SPY"] and len(served["SPY"]) == 300
