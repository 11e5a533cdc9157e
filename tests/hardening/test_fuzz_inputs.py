"""Fuzz-style: seeded generators of bad configs, --set values and data files, run through the CLI.

Every generated input must be refused the same way: exit 2, exactly one message (``error: ...``), no
traceback, and nothing written anywhere (each case runs in its own folder; the whole temporary tree is
compared before and after). No hypothesis (its pytest plugin breaks on this Python): plain
``random.Random(seed)`` over a bounded number of cases, so the test is repeatable and quick. A failure
prints the case, so it can be turned into a test of its own.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hardening_probe import assert_one_clean_error, refuse, tree
from runner.cli import main

# -- values that no key of its kind accepts ------------------------------------------------------------

NOT_NUMBERS = [True, False, "yes", "on", "1,5", "1.229,23", float("inf"), float("-inf"), float("nan"), "1e400",
               "abc", "x" * 3000, [1], {"a": 1}, dt.date(2018, 1, 1), "", "\x1b[31m", "0x", "1_000,5"]
NOT_DATES = ["2018-02-30", "2018-13-01", 1514764800, True, "yesterday", 20180101, 1e10, [2018], "0000-01-01",
             "2018/02/30", "x" * 2000, {"y": 2018}, dt.date(1700, 1, 1), dt.date(1989, 12, 29), dt.date(2999, 12, 31),
             dt.date(9999, 1, 1)]
NOT_NAMES = ["../../x", "a/b", "..", "", " x", "x" * 200, "a\x00b", "..\\..\\x", "/etc/passwd", "x/../..", "-"]
NOT_CHOICES = ["verbose", True, 3, "", "x" * 500, ["INFO"], "info level"]

NUMERIC = ["broker.cash", "broker.slippage_pct", "broker.commission.per_share", "broker.commission.minimum",
           "strategies.0.params.rally_pct", "strategies.0.params.stop_atr", "strategies.0.params.drift_min_pct",
           "strategies.0.params.atr_period", "ib.port", "ib.client_id", "ib.connect_timeout"]
DATES = ["start", "end"]
NAMES = ["name", "strategies.0.symbol", "strategies.0.label", "strategies.0.data.cache"]
CHOICES = ["logging.level", "logging.file_level", "strategies.0.params.entry", "strategies.0.data.format",
           "strategies.0.data.timezone"]

BASE = {
    "name": "fuzz",
    "broker": {"cash": 100000, "commission": {"per_share": 0.005, "minimum": 1.0}, "slippage_pct": 0.02},
    "strategies": [{"name": "december_fade", "symbol": "SPX", "data": {"sample": "sp500"},
                    "params": {"rally_pct": 1.5, "stop_atr": 1.5}}],
}


def hostile_value(rng: random.Random, key: str):
    pool = (NOT_NUMBERS if key in NUMERIC else NOT_DATES if key in DATES else
            NOT_NAMES if key in NAMES else NOT_CHOICES)
    value = rng.choice(pool)
    if key == "name" and value == "-":
        value = "a b"    # '-' is a fine run name
    if key == "strategies.0.data.cache":
        return {"cache": value}   # data: {cache: ...} with a path-like symbol
    return value


def put(data: dict, dotted: str, value) -> None:
    parts = dotted.split(".")
    if parts[-1] == "cache":   # the whole data source is replaced
        parts, value = parts[:-1], value
    node = data
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    last = parts[-1]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value


def bad_config_text(rng: random.Random) -> tuple[str, str]:
    """(description, YAML text) of a config that must be refused."""
    kind = rng.choice(["value", "value", "value", "duplicate", "unknown", "section", "syntax", "strategy",
                       "misread number"])
    data = yaml.safe_load(yaml.safe_dump(BASE))
    if kind == "misread number":   # written unquoted, as a user types it
        form = misread_number(rng)
        return f"cash {form[:20]}", yaml.safe_dump(data, sort_keys=False).replace("cash: 100000", f"cash: {form}")
    if kind == "value":
        key = rng.choice(NUMERIC + DATES + NAMES + CHOICES)
        value = hostile_value(rng, key)
        put(data, key, value)
        return f"{key}={value!r:.60}", yaml.safe_dump(data, sort_keys=False, allow_unicode=False)
    text = yaml.safe_dump(data, sort_keys=False)
    if kind == "duplicate":
        key = rng.choice(["name: again", "broker: {cash: 5}", "strategies: []", "start: 2018-01-01"])
        if key.split(":")[0] not in text:
            text += key + "\n"
        return f"duplicate {key}", text + key + "\n"
    if kind == "unknown":
        where = rng.choice(["", "broker", "strategies.0", "strategies.0.params", "ib"])
        name = rng.choice(["brokr", "cahs", "x" * 300, "ralley_pct", "strategy"])
        if where:
            put(data, f"{where}.{name}", 1)
        else:
            data[name] = 1
        return f"unknown {where}.{name[:20]}", yaml.safe_dump(data, sort_keys=False)
    if kind == "section":
        key, value = rng.choice([("broker", 5), ("strategies", "x"), ("strategies", []), ("ib", [1]),
                                 ("strategies.0.params", [1]), ("strategies.0.data", 5), ("logging", "loud")])
        put(data, key, value)
        return f"section {key}={value!r}", yaml.safe_dump(data, sort_keys=False)
    if kind == "strategy":
        put(data, "strategies.0.name", rng.choice(["decemberfade", "nosuch", "", "x" * 400]))
        return "strategy name", yaml.safe_dump(data, sort_keys=False)
    cut = rng.randrange(5, len(text) - 5)
    broken = rng.choice([text[:cut] + "\t" + text[cut:], text[:cut] + ": [unclosed\n" + text[cut:],
                         "a: " + "[" * 50000 + "\n", text + "\x00\n", text.replace("  ", " ", 1) + "  - x\n: y\n"])
    return "syntax", broken


SET_KEYS = NUMERIC + DATES + NAMES[:3] + CHOICES
MALFORMED_SETS = ["noequals", "=1", "strategies.9.params.rally_pct=1", "strategies.nosuch.params.rally_pct=1",
                  "name.sub=1", "strategies.0.params.rally_pct=[[[[", "broker..cash=1", "strategies.x" * 200 + "=1",
                  "strategies.0.params.nokey=1", "strategies.0.params.rally_pct", "ib.port=0", "ib.port=99999"]


def set_text(value) -> str:
    if isinstance(value, float) and value != value:
        return ".nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    if isinstance(value, (list, dict, bool)) or value is None:
        return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
    return str(value)


def misread_number(rng: random.Random) -> str:
    """A number as YAML 1.1 would misread it (octal, hex, binary, base 60) or one too long for int()."""
    return rng.choice([f"0{rng.randint(1, 7)}{rng.randint(0, 7)}{rng.randint(0, 7)}", f"0x{rng.randint(1, 10 ** 6):X}",
                       f"0b{rng.randint(1, 255):b}", f"{rng.randint(1, 59)}:{rng.randint(10, 59)}",
                       f"{rng.randint(1, 9)}:{rng.randint(10, 59)}:{rng.randint(10, 59)}.5",
                       "9" * rng.randint(31, 6000)])


def bad_setting(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return f"{rng.choice(['broker.cash', 'strategies.0.params.rally_pct', 'ib.port'])}={misread_number(rng)}"
    if rng.random() < 0.3:
        return rng.choice(MALFORMED_SETS)
    key = rng.choice(SET_KEYS)
    value = hostile_value(rng, key)
    text = set_text(value)
    if key in NAMES:   # quoted as YAML, or ' x' would arrive as 'x'
        text = yaml.safe_dump(value, default_flow_style=True, width=10 ** 6).strip().removesuffix("...").strip()
    if key in NUMERIC and text in ("False", "false", ""):
        text = "off"
    if key in DATES and text == "":
        text = "2018-02-30"
    return f"{key}={text}"


# -- data files --------------------------------------------------------------------------------------------

HEADER = "Date,Open,High,Low,Close,Volume"


def good_rows(rng: random.Random, count: int = 260) -> list[str]:
    day, price, rows = dt.date(2010, 1, 4), 100.0, []
    while len(rows) < count:
        if day.weekday() < 5:
            price *= 1 + rng.uniform(-0.01, 0.01)
            rows.append(f"{day},{price:.2f},{price * 1.01:.2f},{price * 0.99:.2f},{price:.2f},{rng.randint(1000, 9000)}")
        day += dt.timedelta(days=1)
    return rows


def set_field(row: str, index: int, value: str) -> str:
    fields = row.split(",")
    fields[index] = value
    return ",".join(fields)


ROW_CORRUPTIONS = {
    "decimal comma (quoted)": lambda r, g: set_field(r, 1, '"' + r.split(",")[1].replace(".", ",") + '"'),
    "decimal comma (bare)": lambda r, g: set_field(r, 4, r.split(",")[4].replace(".", ",")),
    "true as a price": lambda r, g: set_field(r, g.randint(1, 4), g.choice(["true", "yes", "TRUE", "False"])),
    "epoch date": lambda r, g: set_field(r, 0, str(g.randint(10 ** 9, 2 * 10 ** 9))),
    "impossible date": lambda r, g: set_field(r, 0, g.choice(["2010-02-30", "2010-13-01", "2010-00-10", "31/02/2010"])),
    "empty or nan": lambda r, g: set_field(r, g.randint(1, 5), g.choice(["", "nan", "NaN", "inf", "-inf", "null"])),
    "non-positive price": lambda r, g: set_field(r, g.randint(1, 4), g.choice(["0", "-1", "-0.01"])),
    "absurd price": lambda r, g: set_field(set_field(set_field(set_field(r, 1, "1e308"), 2, "1e308"), 3, "1e308"),
                                           4, "1e308"),
    "tiny price": lambda r, g: set_field(set_field(r, 3, "0.00000001"), 1, "0.00000001"),
    "high below low": lambda r, g: set_field(r, 2, str(float(r.split(",")[3]) - 5)),
    "negative volume": lambda r, g: set_field(r, 5, "-10"),
    "boolean volume": lambda r, g: set_field(r, 5, "true"),
    "extra field": lambda r, g: r + ",42",
    "missing field": lambda r, g: ",".join(r.split(",")[:-1]),
    "text in a number": lambda r, g: set_field(r, g.randint(1, 5), g.choice(["12a", "1.2.3", "$100", "--5", "x" * 900])),
}


def bad_data_file(rng: random.Random) -> tuple[str, bytes, int | None]:
    """(description, file bytes, the 1-based line the message must name or None)."""
    rows = good_rows(rng)
    kind = rng.choice([*ROW_CORRUPTIONS, "duplicate", "bad bytes", "nul bytes", "empty", "header only",
                       "no date column", "future"])
    if kind in ROW_CORRUPTIONS:
        i = rng.randrange(len(rows))
        rows[i] = ROW_CORRUPTIONS[kind](rows[i], rng)
        return kind, ("\n".join([HEADER, *rows]) + "\n").encode(), i + 2
    if kind == "duplicate":
        i = rng.randrange(1, len(rows))
        rows[i] = rows[i - 1]
        return kind, ("\n".join([HEADER, *rows]) + "\n").encode(), i + 2
    if kind == "bad bytes":
        i = rng.randrange(len(rows))
        text = [HEADER.encode(), *(r.encode() for r in rows)]
        text[i + 1] = text[i + 1][:5] + rng.choice([b"\xff", b"\xfe\xfe", b"\xc3\x28", b"\x80"]) + text[i + 1][5:]
        return kind, b"\n".join(text) + b"\n", i + 2
    if kind == "nul bytes":
        return kind, b"\x00" * rng.randint(1, 5000), None
    if kind == "empty":
        return kind, rng.choice([b"", b"\n", b"   \n\n"]), None
    if kind == "header only":
        return kind, (HEADER + "\n").encode(), None
    if kind == "no date column":
        return kind, ("\n".join(["Open,High,Low,Close,Volume", *(r.split(",", 1)[1] for r in rows)]) + "\n").encode(), None
    rows.append("2999-01-04,1,1,1,1,1")
    return kind, ("\n".join([HEADER, *rows]) + "\n").encode(), None


DATA_CONFIG = """name: fuzz
strategies:
  - name: january_snapback
    symbol: IWM
    data: {path: bars.csv}
"""


# -- running ---------------------------------------------------------------------------------------------

def test_fuzzed_configs_are_refused(tmp_path, capsys, monkeypatch):
    rng = random.Random(20261201)
    for n in range(100):
        described, text = bad_config_text(rng)
        case = tmp_path / f"config-{n}"
        case.mkdir()
        (case / "c.yaml").write_text(text, encoding="utf-8")
        command = ["config", "check", "c.yaml"] if n % 4 else ["backtest", "-c", "c.yaml"]
        message = refuse(command, case, tmp_path, capsys, monkeypatch, described)
        assert "c.yaml" in message, (described, message)   # the message names the file


def test_fuzzed_set_values_are_refused_naming_the_option(tmp_path, capsys, monkeypatch):
    rng = random.Random(7)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(BASE, sort_keys=False))
    for n in range(100):
        setting = bad_setting(rng)
        command = ["config", "check", "c.yaml", "--set", setting] if n % 5 else \
            ["backtest", "-c", "c.yaml", "--set", setting]
        message = refuse(command, tmp_path, tmp_path, capsys, monkeypatch, setting)
        assert "--set" in message, (setting, message)


def test_fuzzed_data_files_are_refused_with_their_line(tmp_path, capsys, monkeypatch):
    rng = random.Random(99)
    for n in range(80):
        described, data, line = bad_data_file(rng)
        case = tmp_path / f"data-{n}"
        case.mkdir()
        (case / "c.yaml").write_text(DATA_CONFIG)
        (case / "bars.csv").write_bytes(data)
        message = refuse(["backtest", "-c", "c.yaml"], case, tmp_path, capsys, monkeypatch, described)
        assert "bars.csv" in message, (described, message)
        if line is not None:
            assert f"line {line}:" in message, (described, line, message)


@pytest.mark.parametrize("case", ["fifo config", "bad set", "bad data"])
def test_fuzzed_inputs_as_a_user_runs_them(case, tmp_path):
    """A few through a real process: the exit code and the console are what a shell sees."""
    rng = random.Random(case)
    (tmp_path / "c.yaml").write_text(DATA_CONFIG)
    args = ["backtest", "-c", "c.yaml"]
    if case == "fifo config":
        os.mkfifo(tmp_path / "f.yaml")
        args = ["config", "check", "f.yaml"]
    elif case == "bad set":
        (tmp_path / "bars.csv").write_text("\n".join([HEADER, *good_rows(rng)]) + "\n")
        args += ["--set", bad_setting(rng)]
    else:
        (tmp_path / "bars.csv").write_bytes(bad_data_file(rng)[1])
    before = tree(tmp_path)
    done = subprocess.run([sys.executable, "-m", "runner", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONWARNINGS": "default"})
    assert_one_clean_error(done.returncode, done.stderr)
    assert "Warning" not in done.stderr, done.stderr
    assert tree(tmp_path) == before
