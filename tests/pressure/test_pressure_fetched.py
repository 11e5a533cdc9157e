"""flowbot pressure on the IB cache that flowbot fetch wrote: fetch the daily bars of config/pressure_ib.yaml's
legs from the simulated gateway, then read them back (--source cache), playbooks included
(config/paper_filters.yaml)."""
import json
from pathlib import Path

import pytest

from generated import equity_and_bonds
from runner.cli import main
from runner.sim import SimulatedGateway

ROOT = Path(__file__).resolve().parents[2]


def drift(t, re, rb=0.0):
    return (t * (1 + re) / (t * (1 + re) + (1 - t) * (1 + rb)) - t) * 100


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """SPY steps up 10% / 20% / 5% on June 1 of 2016 / 2017 / 2018 (flat otherwise), IEF and TLT are
    flat, IWM, RSP and QQQ follow SPY, every volume is 1e6; fetched through the gateway into a fresh cache."""
    spy, ief = equity_and_bonds()
    bars = {"SPY": spy, "IEF": ief, "TLT": ief.copy(), "IWM": spy.copy(), "RSP": spy.copy(), "QQQ": spy.copy()}
    folder = tmp_path_factory.mktemp("fetched") / "cache"
    with SimulatedGateway(bars=bars, speed=0, paused=True, pacing=True, pacing_time_scale=0.01,
                          start="2018-07-02 09:00", wire_log=False) as gw:
        for symbol in bars:
            code = main(["fetch", "--symbol", symbol, "--bar-size", "1 day", "--start", "2016-01-01",
                         "--end", "2018-06-29", "--set", f"ib.port={gw.port}", "--set", "ib.client_id=9",
                         "--set", "ib.pacing_backoff=1", "--cache", str(folder), "--no-progress"])
            assert code == 0
    return folder


def test_the_shipped_ib_pressure_file_on_the_fetched_cache(cache, capsys):
    capsys.readouterr()
    config = ROOT / "config" / "pressure_ib.yaml"
    assert main(["pressure", "-c", str(config), "--source", "cache", "--cache", str(cache), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["date"] == "2018-06-29"                     # the last fetched bar
    assert report["labels"] == {name: f"cache:{name}" for name in ("SPY", "IEF", "TLT", "IWM", "RSP", "QQQ")}
    assert report["returns"]["SPY"] == pytest.approx({"year": 0.05, "quarter": 0.05, "month": 0.05})
    assert report["history"]["same_date"] == pytest.approx({"2016": drift(0.6, 0.10), "2017": drift(0.6, 0.20)},
                                                           abs=1e-4)
    signals = [(s["signal"], s["values"], s["passes"]) for s in report["signals"]]
    assert signals == [("rotation", [0.0], False), ("rotation", [0.0], True), ("rotation", [0.0], True),
                       ("volume_spike", [1.0, 1.0, 1.0], False)]   # the legs move together; flat volume

    # the playbooks read the same cache: SPY, its bonds feed from IEF and its filter leg from IWM
    (fade,) = report["playbooks"]
    assert fade["name"] == "quarter_end_fade" and fade["symbol"] == "SPY"
    conditions = {c["condition"]: c for c in fade["conditions"]}
    assert conditions["quarter-to-date drift of 60%/40%, pts"]["value"] == pytest.approx(drift(0.6, 0.05), abs=1e-4)
    assert conditions["quarter-to-date drift of 60%/40%, pts"]["ok"]           # >= 1.0
    assert conditions["filter rotation"]["ok"] and conditions["filter rotation"]["value"] == pytest.approx(0.0)
    # June 29 is the quarter's last session (the exit day), and the close did not rally over the Jun OPEX
    assert fade["waits_on"] == ["window", "rally over the Jun OPEX close, %"]
