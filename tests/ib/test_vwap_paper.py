"""vwap_close_fade in paper mode: 1-minute bars built from the simulated gateway's 5-second bars.

The strategy runs bar by bar (its VWAP indicator, no precomputed lines) and
must decide exactly as the backtest does: the same sessions, sides, sizes and
bracket (entry, stop, VWAP limit, market-on-close sent before the cutoff), and
be flat at every close. Live fills differ in price by design (a market order
fills when it reaches the gateway, not at the next bar's open), so which exit
comes first may differ too.
"""
import datetime as dt
import threading
from pathlib import Path

import pandas as pd
import pytest

from runner.backtest.run import run_backtest
from runner.config import validate_config
from runner.data.intraday_sample import synthetic_minute_bars
from runner.paper.session import PaperSession
from runner.sim import SimulatedGateway

from harness import PATIENCE, REPLAY_PATIENCE, follow_session, wait_for

ROOT = Path(__file__).resolve().parents[2]


def run_config(tmp_path: Path, port: int = 4002):
    raw = {
        "name": "vwap-paper",
        "broker": {"slippage_pct": 0, "commission": {"per_share": 0.005, "minimum": 1.0, "maximum_pct": 100}},
        "strategies": [{"name": "vwap_close_fade", "symbol": "SPY", "data": "sample:spy_1min_synthetic",
                        "params": {"every_day": True}}],
        "ib": {"port": port, "library": "ib_insync", "client_id": 12, "backfill_bars": 0, "connect_timeout": 30,
               "bar_size": "1min"},
        "output": {"folder": str(tmp_path / "logs"), "report": False},
    }
    return validate_config(raw, "vwap-paper")


def decisions(orders: pd.DataFrame) -> list[tuple]:
    """(session, side, type, reason) of every order sent, and the sizes (equity-dependent) apart."""
    sent = orders[orders["status"] == "Submitted"].sort_values(["time", "order_id"], kind="stable")
    day = pd.to_datetime(sent["time"], utc=True).dt.tz_convert("America/New_York").dt.date
    return list(zip(day, sent["side"], sent["type"], sent["reason"])), sent["size"].to_list()


def test_paper_session_decides_like_the_backtest(tmp_path):
    bars = synthetic_minute_bars(dt.date(2019, 5, 29), dt.date(2019, 5, 30), seed=5,
                                 eligible=lambda day: True, push_share_eligible=1.0)
    backtest = run_backtest(run_config(tmp_path), {"SPY": bars})
    assert len(backtest.trades) >= 1, "the data must hold a trade"

    # As fast as possible, but with a breath after each bar so that the bot's orders reach the gateway
    # in the minute they are sent, as they would live.
    with SimulatedGateway(bars={"SPY": bars}, speed=0, paused=True, wire_log=False, session_pause=0.05,
                          bar_pause=0.03, pacing_time_scale=0.01) as gw:
        session = PaperSession(run_config(tmp_path, gw.port), journal_dir=tmp_path / "logs")
        session.start()
        follow_session(gw, session, window=45 * 60)   # the replay waits for the session at every bar of the last
        # 45 minutes (the playbook acts from 15:30) and at every close: never a race
        worker = threading.Thread(target=session.run, daemon=True)
        worker.start()
        streams = lambda: sum(gw.realtime_subscriptions().values(), [])  # noqa: E731
        assert wait_for(lambda: streams() == ["SPY"], 30), "subscribed before the replay starts"
        gw.resume()
        assert gw.wait_until_done(REPLAY_PATIENCE)
        last = bars.index[-1]
        assert wait_for(lambda: all(f.delivered and f.delivered[-1].time >= last for f in session.feeds.values()),
                        30)
        # The last session's market-on-close fill arrives after its last bar.
        wait_for(lambda: len(session.runlog.trades) >= len(backtest.trades), 30)
        gw.set_pause_hook(None)
        session.stop("test over")
        worker.join(PATIENCE)
        paper = session.runlog
        session.close()
    assert not worker.is_alive()
    orders, trades = paper.orders_frame(), paper.trades_frame()
    (live_orders, live_sizes), (tested_orders, tested_sizes) = decisions(orders), decisions(backtest.orders)
    assert live_orders == tested_orders
    # The first trade's size is the same; later ones follow equity, which live fills move a little.
    assert live_sizes[0] == tested_sizes[0]
    assert live_sizes == pytest.approx(tested_sizes, rel=0.02)
    assert len(trades) == len(backtest.trades)
    for live, tested in zip(trades.to_dict("records"), backtest.trades.to_dict("records")):
        # Which exit comes first may differ (live fills), but every trade is flat by its own close.
        assert live["direction"] == tested["direction"]
        assert live["entry_time"][:10] == live["exit_time"][:10] == tested["entry_time"][:10]
        if live["exit_reason"] == tested["exit_reason"] == "close":
            assert live["exit_time"] == tested["exit_time"] and live["exit_price"] == pytest.approx(tested["exit_price"])
