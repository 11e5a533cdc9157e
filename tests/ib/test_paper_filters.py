"""Filters in paper trading: config/paper_filters.yaml (a quarter-end fade whose rotation filter reads
IWM and whose drift reads IEF) through the simulated gateway serving SPY, IEF and IWM. The filter
decides in paper as in the backtest, and its value at the decision is written with the trade."""
import threading
from pathlib import Path

import pytest
import yaml

from runner.backtest.run import run_backtest
from runner.config import validate_config
from runner.data.load import load_run_bars
from runner.paper.session import PaperSession, feed_symbols
from runner.sim import SimulatedGateway

from harness import PATIENCE, REPLAY_PATIENCE, follow_session, wait_for
from test_parity import comparable

ROOT = Path(__file__).resolve().parents[2]
# The Q4 2003 window: the quarter's base (Sep 30 close) and ATR(14) warm up inside it; the fade sells
# the 2003-12-30 open and exits at the Dec 31 close (see config/paper_filters.yaml's backtest).
START, END = "2003-09-25", "2004-01-02"


def run_config(tmp_path: Path, min_pct: float, port: int = 4002, library: str = "ib_insync"):
    raw = yaml.safe_load((ROOT / "config" / "paper_filters.yaml").read_text())
    raw["strategies"][0]["params"]["filters"][0]["min_pct"] = min_pct
    raw.update(start=START, end=END, output={"folder": str(tmp_path / "logs"), "report": False},
               # the gateway charges IB's fixed commission and fills without slippage
               broker={"slippage_pct": 0, "commission": {"per_share": 0.005, "minimum": 1.0, "maximum_pct": 100}})
    raw["ib"].update(port=port, library=library, client_id=12, backfill_bars=0, connect_timeout=30)
    return validate_config(raw, "paper_filters.yaml")


def paper_run(cfg, bars, tmp_path: Path) -> PaperSession:
    """The session through a gateway serving each feed's bars under its IB symbol (SPY, IEF, IWM)."""
    symbols = {symbol: bars[name] for name, symbol in feed_symbols(cfg).items()}
    with SimulatedGateway(bars=symbols, speed=0, paused=True, wire_log=False, session_pause=0.05,
                          pacing_time_scale=0.01) as gw:
        session = PaperSession(cfg.model_copy(update={"ib": cfg.ib.model_copy(update={"port": gw.port})}),
                               journal_dir=tmp_path / "logs")
        session.start()
        follow_session(gw, session)   # the replay waits for the session at every close: never a race
        worker = threading.Thread(target=session.run, daemon=True)
        worker.start()
        streams = lambda: sorted(sum(gw.realtime_subscriptions().values(), []))  # noqa: E731
        assert wait_for(lambda: streams() == sorted(symbols), 30), "subscribed before the replay starts"
        gw.resume()
        assert gw.wait_until_done(REPLAY_PATIENCE)
        last = bars["SPY"].index[-1].date()
        assert wait_for(lambda: all(f.delivered and f.delivered[-1].time.date() >= last
                                    for f in session.feeds.values()), 30)
        gw.set_pause_hook(None)
        session.stop("test over")
        worker.join(PATIENCE)
        session.close()
    assert not worker.is_alive()
    return session


def test_the_shipped_file_declares_the_filter_legs_as_ib_symbols():
    cfg = validate_config(yaml.safe_load((ROOT / "config" / "paper_filters.yaml").read_text()), "paper_filters")
    assert feed_symbols(cfg) == {"SPY": "SPY", "SPY.bonds": "IEF", "SPY.IWM": "IWM"}


@pytest.mark.parametrize("min_pct, trades", [(-3.0, 1), (1.0, 0)], ids=["passes", "holds-back"])
def test_the_filter_decides_in_paper_and_its_value_is_written_with_the_trade(min_pct, trades, library, tmp_path):
    cfg = run_config(tmp_path, min_pct, library=library)
    bars = {name: frame.drop(columns=["adj_close"], errors="ignore") for name, frame in load_run_bars(cfg).items()}
    backtest = run_backtest(cfg, bars)
    assert len(backtest.trades) == trades

    session = paper_run(cfg, bars, tmp_path)
    paper_orders, paper_trades = session.runlog.orders_frame(), session.runlog.trades_frame()
    assert comparable(paper_orders) == comparable(backtest.orders)
    assert len(paper_trades) == trades
    if trades:
        # SPY +0.33% against IWM over the 10 sessions to the Dec 29 close: the value the decision saw
        assert paper_trades["filters"].tolist() == ["rotation SPY/IWM 10s +0.33% (>= -3) pass"]
        assert paper_trades["filters"].tolist() == backtest.trades["filters"].tolist()
    else:
        assert not (paper_orders["reason"] == "entry").any()
