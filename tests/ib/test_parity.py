"""Parity: the same config over the same daily bars makes the same orders and fills as a backtest
and as a paper session through the simulated gateway."""
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from runner.backtest.run import run_backtest
from runner.config import validate_config
from runner.data.load import load_run_bars
from runner.ib.broker import IBBroker
from runner.paper.session import PaperSession
from runner.sim import SimulatedGateway

from harness import PATIENCE, REPLAY_PATIENCE, follow, wait_for

ROOT = Path(__file__).resolve().parents[2]
WINDOWS = {   # each window holds one trade of the playbook on the embedded S&P 500 sample
    "january_snapback": ("2002-07-01", "2003-01-31"),   # MOC entry, stop + target (OCO), target fills
    "december_fade": ("2002-12-02", "2004-01-30"),      # market entry with its exit group, MOC time exit
}


def run_config(playbook: str, tmp_path: Path, port: int = 4002, library: str = "ib_insync"):
    base = yaml.safe_load((ROOT / "config" / "backtest.yaml").read_text())
    strategy = next(s for s in base["strategies"] if s["name"] == playbook)
    strategy = dict(strategy, symbol="SPX", data="sample:sp500")
    start, end = WINDOWS[playbook]
    raw = {
        "name": f"parity-{playbook}", "start": start, "end": end,
        # the gateway charges IB's fixed commission and fills without slippage
        "broker": {"slippage_pct": 0, "commission": {"per_share": 0.005, "minimum": 1.0, "maximum_pct": 100}},
        "strategies": [strategy],
        "ib": {"port": port, "library": library, "client_id": 11, "backfill_bars": 0, "connect_timeout": 30,
               "feed_symbols": {"SPX.bonds": "BOND"}},
        "output": {"folder": str(tmp_path / "logs"), "report": False},
    }
    return validate_config(raw, "parity")


def same_bars(cfg):
    """The run's bars without adj_close: the gateway serves raw prices only."""
    return {name: frame.drop(columns=["adj_close"], errors="ignore") for name, frame in load_run_bars(cfg).items()}


def comparable(orders: pd.DataFrame) -> tuple[list, list]:
    sent = orders[orders["status"] == "Submitted"][["time", "side", "size", "type", "reason"]]
    filled = orders[orders["status"] == "Completed"][["time", "side", "filled_size", "fill_price", "reason"]]
    filled = filled.assign(fill_price=filled["fill_price"].round(4))
    return (sorted(map(tuple, sent.to_numpy().tolist())), sorted(map(tuple, filled.to_numpy().tolist())))


@pytest.mark.parametrize("playbook", sorted(WINDOWS))
def test_paper_through_the_gateway_matches_the_backtest(playbook, library, tmp_path):
    assert_paper_matches_backtest(playbook, library, tmp_path)


def test_parity_holds_when_the_strategy_hears_of_a_fill_late(tmp_path, monkeypatch):
    """The race that made this test flaky, made wide: a commission report booked in the moment the pause
    hook looks (the bot quiet, the fill booked, the strategy not yet told). Counted from before the report,
    the hook let the replay go on and the stop and target went out a session late; it must wait for them."""
    original = IBBroker._book_ready

    def slow_after_booking(self):
        before = len(self.awaiting)
        original(self)
        if len(self.awaiting) < before:
            booked.set()
            # Between booking a fill and the strategy's next(): the window the hook must not use. Kept: the
            # hook waits on events (idle polls counted after the booking), so a slower machine (or this
            # sleep) only makes the test slower, never red; it can only fail if the hook races the bot.
            time.sleep(0.3)

    booked = threading.Event()
    monkeypatch.setattr(IBBroker, "_book_ready", slow_after_booking)
    assert_paper_matches_backtest("january_snapback", "ib_insync", tmp_path, commission_delay=(0.2, 0.4))
    assert booked.is_set(), "the window was never opened: the test proves nothing"


def assert_paper_matches_backtest(playbook: str, library: str, tmp_path: Path, **gateway_options) -> None:
    cfg = run_config(playbook, tmp_path)
    bars = same_bars(cfg)
    backtest = run_backtest(cfg, bars)
    assert len(backtest.orders), "the window must hold a trade"

    symbols = {"SPX": bars["SPX"]}
    if "SPX.bonds" in bars:
        symbols["BOND"] = bars["SPX.bonds"]
    with SimulatedGateway(bars=symbols, speed=0, paused=True, wire_log=False, session_pause=0.05,
                          pacing_time_scale=0.01, **gateway_options) as gw:
        session = PaperSession(run_config(playbook, tmp_path, gw.port, library), journal_dir=tmp_path / "logs")
        session.start()
        for feed in session.feeds.values():
            feed.p.qcheck = 0.02   # idle polls (what the hook waits for) come quickly
        follow(gw, session.store, session.broker, session.feeds.values())   # never a race against the replay
        worker = threading.Thread(target=session.run, daemon=True)
        worker.start()
        streams = lambda: sorted(sum(gw.realtime_subscriptions().values(), []))  # noqa: E731
        assert wait_for(lambda: streams() == sorted(symbols), 30), "subscribed before the replay starts"
        gw.resume()
        assert gw.wait_until_done(REPLAY_PATIENCE)
        last = bars["SPX"].index[-1].date()
        assert wait_for(lambda: all(f.delivered and f.delivered[-1].time.date() >= last
                                    for f in session.feeds.values()), 30)
        gw.set_pause_hook(None)
        session.stop("test over")
        worker.join(PATIENCE)
        session.close()
    assert not worker.is_alive()
    paper = session.runlog.orders_frame()
    assert comparable(paper) == comparable(backtest.orders)
    assert [b.time.date() for b in session.feeds["SPX"].delivered] == [t.date() for t in bars["SPX"].index]
