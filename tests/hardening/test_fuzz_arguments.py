"""Fuzz-style, the command line: seeded bad values for every command's options, and data files split by
another separator, run through ``runner.cli.main`` in-process.

Each generated case must be refused like any bad input: exit 2, exactly one message naming the option (or
the file and its line 1), no traceback, nothing written anywhere under the test's folder. Nothing may
start: the simulated gateway is replaced by one that fails the test if it is ever started, paper and fetch
point at a closed port, so an accepted value shows as a wrong exit code, never as a hang.
"""
from __future__ import annotations

import datetime as dt
import gzip
import random
import socket
from pathlib import Path

import pytest

from hardening_probe import refuse
from runner.inputs import latest_date

SWEEP = Path(__file__).resolve().parents[2] / "config" / "sweeps" / "december_fade.yaml"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- generators of bad values, by kind -----------------------------------------------------------------

def bad_date(rng: random.Random) -> str:
    """Text no date option may accept: not a date, an impossible one, or one the NYSE calendar cannot place."""
    kind = rng.randrange(8)
    if kind == 0:
        return f"{rng.randint(1000, 1989)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if kind == 1:
        later = latest_date() + dt.timedelta(days=rng.randint(1, 3_000_000))
        return later.isoformat() if later.year < 10_000 else "9999-12-31"
    if kind == 2:
        year = rng.randint(1991, 2017)
        return rng.choice([f"{year}-02-30", f"{year}-13-01", f"{year}-00-10", f"{year}-04-31", f"{year}-06-00"])
    if kind == 3:
        return str(rng.randint(10 ** 8, 2 * 10 ** 9))   # an epoch time
    if kind == 4:
        return rng.choice(["yesterday", "today", "", " ", "2018/12/03", "03.12.2018", "12/03/2018", "2018-1-2x"])
    if kind == 5:
        return "2018-12-0" + "1" * rng.randint(2, 3000)
    if kind == 6:
        return rng.choice(["nan", "inf", "-1", "0", "1e10", "true", "null"])
    return rng.choice(["\x1b[31m2018-12-03", "2018-12-03\n2019", "2018\u201112\u201103", "２０１８-12-03"])


def bad_number(rng: random.Random, low_ok: float = 0.0) -> str:
    """Not a finite number above ``low_ok`` (nor anything else such an option takes)."""
    return rng.choice(["nan", "NaN", "inf", "-inf", "1e400", "abc", "", "0x", "1,5", "true", "--",
                       f"{-rng.uniform(0.001, 1e6):.3f}", str(low_ok - 1), "1" * rng.randint(400, 800) + "x"])


def bad_port(rng: random.Random) -> str:
    return rng.choice([str(rng.randint(65536, 10 ** 7)), str(-rng.randint(1, 1000)), "http", "", "1.5", "nan",
                       "0x10", "4002a"])


def bad_fault(rng: random.Random) -> str:
    kind = rng.choice(["drop", "restart", "1100", "reject", "pacing", "clientid", "boom", "", "DROP", "1103"])
    seconds = rng.choice(["", "-1", "nan", "inf", "x", "1e400", "99999999999"])
    if kind in ("boom", "", "DROP", "1103"):
        seconds = rng.choice(["10", "0", seconds])
    spec = f"{kind}@{seconds}"
    if kind in ("drop", "1100") and rng.random() < 0.5:
        spec = f"{kind}@10:{rng.choice(['1', 'x'])}"   # these take no argument
    if kind in ("restart", "reject", "pacing", "clientid") and rng.random() < 0.5:
        spec = f"{kind}@10:{rng.choice(['-1', 'x', 'nan', '1e9', '2000000'])}"
    return rng.choice([spec, spec, kind, f"{kind}10", f"{kind}@10:"])


def bad_name(rng: random.Random) -> str:
    return rng.choice(["../../x", "a/b", "..", "", " x", "x" * rng.randint(65, 400), "..\\..\\x", "/etc/passwd",
                       "x/../..", "SPY/../../x", "a\tb", "\x1b[2J"])


# -- each option of each command, with what must be refused ----------------------------------------------

def _sim(option: str, value: str) -> list[str]:
    return ["gateway-sim", "--port=0", "--speed=0", f"{option}={value}"]


def cases(rng: random.Random, port: int) -> list[tuple[list[str], str]]:
    """(argv, the text the message must hold) for one round of every option."""
    fetch = ["fetch", "--symbol=SPY", "--set", f"ib.port={port}", "--cache=cache"]
    paper = ["paper", "--set", f"ib.port={port}"]
    return [
        (["backtest", f"--start={bad_date(rng)}"], "--start"),
        (["backtest", "--start=2018-01-02", f"--end={bad_date(rng)}"], "--end"),
        (["pressure", f"--date={bad_date(rng)}"], "--date"),
        ([*fetch, f"--start={bad_date(rng)}"], "--start"),
        (["fetch", f"--symbol={bad_name(rng)}", "--start=2024-01-02", "--set", f"ib.port={port}", "--cache=cache"],
         "symbol"),
        ([*paper, f"--duration={bad_number(rng)}"], "--duration"),
        ([*paper, f"--status-port={bad_port(rng)}"], "--status-port"),
        (_sim("--start", bad_date(rng)), "--start"),
        (_sim("--start", f"{rng.randint(1990, 1998)}-{rng.randint(1, 12):02d}-15"), "outside the data"),
        (_sim("--port", rng.choice([bad_port(rng), str(rng.randint(1, 1023)), "7496", "4001"])), "--port"),
        (_sim("--speed", bad_number(rng)), "--speed"),
        (_sim("--cash", rng.choice([bad_number(rng), "0"])), "--cash"),
        (_sim("--partial-fills", rng.choice(["-1", "1001", "abc", "1.5", str(rng.randint(1002, 10 ** 9))])),
         "--partial-fills"),
        (_sim("--session-pause", bad_number(rng)), "--session-pause"),
        (_sim("--fault", bad_fault(rng)), "--fault"),
        (["optimize", "-c", str(SWEEP), f"--workers={rng.choice(['0', '-1', 'abc', '1.5', str(rng.randint(65, 10 ** 6))])}"],
         "--workers"),
        (["backtest", f"--delimiter={rng.choice(['', ';;', 'ab', 'tabs', chr(0)])}"], "delimiter"),
        (["backtest", f"--columns={rng.choice(['time', '=x', 'nosuch=Date', 'a=b=c', ',', 'close='])}"], "columns"),
    ]


@pytest.fixture
def no_gateway_starts(monkeypatch):
    """A gateway-sim value that was accepted would start a replay: make that a failure, not a hang."""
    from runner.sim import cli_entry

    class Refused(cli_entry.SimulatedGateway):
        def start(self, *args, **kwargs):
            raise AssertionError("gateway-sim accepted the value and started")

    monkeypatch.setattr(cli_entry, "SimulatedGateway", Refused)


def test_fuzzed_option_values_are_refused_naming_the_option(tmp_path, capsys, monkeypatch, no_gateway_starts):
    rng = random.Random(20261202)
    port = closed_port()
    seen = 0
    for round_ in range(8):
        for args, named in cases(rng, port):
            message = refuse(args, tmp_path, tmp_path, capsys, monkeypatch, " ".join(args)[-200:])
            assert named in message, (args, message)
            seen += 1
    assert seen >= 140


# -- data files split by another separator than the one in use ---------------------------------------------

SEPARATORS = {"\t": "\\t", ";": ";", "|": "|"}


def separated_file(rng: random.Random, folder: Path) -> tuple[Path, str, bool]:
    """(a bar file split by ``sep``, its label as messages show it, whether it has decimal commas)."""
    sep = rng.choice(list(SEPARATORS))
    decimal_comma = sep != "," and rng.random() < 0.4
    header = rng.choice([["Date", "Open", "High", "Low", "Close", "Volume"],
                         ["time", "open", "high", "low", "close", "volume"],
                         ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]])
    day, price, rows = dt.date(2004, 1, 2), 100.0, []
    while len(rows) < rng.randint(30, 300):
        if day.weekday() < 5:
            price *= 1 + rng.uniform(-0.01, 0.01)
            values = [f"{price:.2f}", f"{price * 1.01:.2f}", f"{price * 0.99:.2f}", f"{price:.2f}"]
            if len(header) == 7:
                values.append(f"{price:.2f}")
            values.append(str(rng.randint(1000, 9000)))
            if decimal_comma:
                values = [v.replace(".", ",") for v in values]
            rows.append(sep.join([day.isoformat(), *values]))
        day += dt.timedelta(days=1)
    text = "\n".join([sep.join(header), *rows]) + "\n"
    name = f"bars{rng.randrange(10 ** 6)}.csv"
    if rng.random() < 0.3:
        path = folder / (name + ".gz")
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path = folder / name
        path.write_text(text)
    return path, SEPARATORS[sep], decimal_comma


def test_files_split_by_another_separator_are_refused_naming_it(tmp_path, capsys, monkeypatch, no_gateway_starts):
    rng = random.Random(5)
    data = tmp_path / "files"
    data.mkdir()
    run = tmp_path / "run"
    run.mkdir()
    for n in range(30):
        path, label, decimal_comma = separated_file(rng, data)
        how = n % 3
        if how == 0:
            args = ["backtest", "--strategy", "january_snapback", "--data", str(path)]
        elif how == 1:
            args = ["gateway-sim", "--port=0", "--data", str(path)]
        else:
            (run / "c.yaml").write_text("strategies:\n  - name: december_fade\n    symbol: SPX\n"
                                        f"    data: {{path: {path}}}\n")
            args = ["backtest", "-c", "c.yaml"]
        message = refuse(args, run, tmp_path, capsys, monkeypatch, f"{path.name} split by {label!r}")
        assert path.name in message and "line 1" in message, message
        assert f"use --delimiter '{label}'" in message, message
        assert ("decimal" in message) == decimal_comma, message
