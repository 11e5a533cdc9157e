"""flowbot pressure on the IB cache that flowbot fetch wrote: fetch SPY, IEF and IWM daily bars from the
simulated gateway, then read them back (--source cache), playbooks included (config/paper_filters.yaml)."""
import json
import textwrap
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
    """SPY steps up 10% / 20% / 5% on June 1 of 2016 / 2017 / 2018 (flat otherwise), IEF is flat, IWM
    follows SPY; fetched through the gateway into a fresh cache."""
    spy, ief = equity_and_bonds()
    folder = tmp_path_factory.mktemp("fetched") / "cache"
    with SimulatedGateway(bars={"SPY": spy, "IEF": ief, "IWM": spy.copy()}, speed=0, paused=True, pacing=True,
                          pacing_time_scale=0.01, start="2018-07-02 09:00", wire_log=False) as gw:
        for symbol in ("SPY", "IEF", "IWM"):
            code = main(["fetch", "--symbol", symbol, "--bar-size", "1 day", "--start", "2016-01-01",
                         "--end", "2018-06-29", "--set", f"ib.port={gw.port}", "--set", "ib.client_id=9",
                         "--set", "ib.pacing_backoff=1", "--cache", str(folder), "--no-progress"])
            assert code == 0
    return folder


def test_pressure_on_the_fetched_cache_with_its_playbooks(cache, tmp_path, capsys):
    capsys.readouterr()
    path = tmp_path / "pressure.yaml"
    path.write_text(textwrap.dedent(f"""\
        instruments: {{SPY: sample:sp500, IEF: sample:aaa_bond_proxy, IWM: sample:nasdaq}}
        equity: SPY
        bonds: IEF
        mixes: [0.6]
        signals:
          - {{signal: rotation, long: SPY, short: IWM, sessions: 10, min_pct: -3.0}}
        playbooks: {ROOT / 'config' / 'paper_filters.yaml'}
        """))
    assert main(["pressure", "-c", str(path), "--source", "cache", "--cache", str(cache), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["date"] == "2018-06-29"                     # the last fetched bar
    assert report["labels"] == {"SPY": "cache:SPY", "IEF": "cache:IEF", "IWM": "cache:IWM"}
    assert report["returns"]["SPY"] == pytest.approx({"year": 0.05, "quarter": 0.05, "month": 0.05})
    assert report["history"]["same_date"] == pytest.approx({"2016": drift(0.6, 0.10), "2017": drift(0.6, 0.20)},
                                                           abs=1e-4)
    assert report["signals"][0]["values"] == [pytest.approx(0.0)] and report["signals"][0]["passes"]

    # the playbooks read the same cache: SPY, its bonds feed from IEF and its filter leg from IWM
    (fade,) = report["playbooks"]
    assert fade["name"] == "quarter_end_fade" and fade["symbol"] == "SPY"
    conditions = {c["condition"]: c for c in fade["conditions"]}
    assert conditions["quarter-to-date drift of 60%/40%, pts"]["value"] == pytest.approx(drift(0.6, 0.05), abs=1e-4)
    assert conditions["quarter-to-date drift of 60%/40%, pts"]["ok"]           # >= 1.0
    assert conditions["filter rotation"]["ok"] and conditions["filter rotation"]["value"] == pytest.approx(0.0)
    # June 29 is the quarter's last session (the exit day), and the close did not rally over the Jun OPEX
    assert fade["waits_on"] == ["window", "rally over the Jun OPEX close, %"]
