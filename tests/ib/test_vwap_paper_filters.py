"""Filters on the intraday playbook in paper trading: vwap_close_fade on SPY 1-minute bars with a rotation
filter whose legs are SPY's and IWM's daily bars, both from the simulated gateway (one 5-second stream per
symbol gives SPY its 1-minute and daily feeds). The filter decides in paper as in the backtest, as of the
previous session's close, and its value at the decision is written with the trade."""
import datetime as dt
import threading
from pathlib import Path

import pandas as pd
import pytest

from runner.backtest.run import run_backtest
from runner.config import validate_config
from runner.data.intraday_sample import synthetic_minute_bars
from runner.paper.session import PaperSession, feed_symbols
from runner.sim import SimulatedGateway

from harness import PATIENCE, REPLAY_PATIENCE, follow_session, wait_for

FIRST, START, LAST = dt.date(2019, 5, 20), dt.date(2019, 5, 28), dt.date(2019, 5, 30)


def minute_data():
    spy = synthetic_minute_bars(FIRST, LAST, seed=5, eligible=lambda day: True, push_share_eligible=1.0)
    iwm = synthetic_minute_bars(FIRST, LAST, seed=11, price=150.0)
    return spy, iwm


def to_daily(minutes: pd.DataFrame) -> pd.DataFrame:
    """The sessions' daily bars, as the gateway aggregates its minutes for a daily request."""
    local = minutes.index.tz_convert("America/New_York")
    days = pd.DatetimeIndex(local.normalize())
    grouped = minutes.groupby(days)
    out = pd.DataFrame({"open": grouped["open"].first(), "high": grouped["high"].max(),
                        "low": grouped["low"].min(), "close": grouped["close"].last(),
                        "volume": grouped["volume"].sum()})
    out.index.name = "time"
    return out


def run_config(min_pct: float, tmp_path: Path, port: int = 4002, library: str = "ib_insync"):
    raw = {
        "name": "vwap-filters-paper", "start": str(START),
        "broker": {"slippage_pct": 0, "commission": {"per_share": 0.005, "minimum": 1.0, "maximum_pct": 100}},
        "strategies": [{"name": "vwap_close_fade", "symbol": "SPY", "data": "sample:spy_1min_synthetic",
                        "feeds": {"SPY": "cache:SPY", "IWM": "cache:IWM"},
                        "params": {"every_day": True, "filters": [
                            {"signal": "rotation", "long": "IWM", "short": "SPY", "sessions": 3,
                             "min_pct": min_pct}]}}],
        "ib": {"port": port, "library": library, "client_id": 12, "connect_timeout": 30,
               "backfill_bars": {"1d": 5, "1min": 0}, "feed_symbols": {"SPY.SPY": "SPY", "SPY.IWM": "IWM"}},
        "output": {"folder": str(tmp_path / "logs"), "report": False},
    }
    return validate_config(raw, "vwap-filters-paper")


def decisions(orders: pd.DataFrame) -> list[tuple]:
    sent = orders[orders["status"] == "Submitted"].sort_values(["time", "order_id"], kind="stable")
    day = pd.to_datetime(sent["time"], utc=True).dt.tz_convert("America/New_York").dt.date
    return list(zip(day, sent["side"], sent["type"], sent["reason"]))


def test_the_daily_legs_get_their_ib_symbols_and_daily_bars(tmp_path):
    from runner.paper.feed_plan import plan_feeds

    cfg = run_config(0.0, tmp_path)
    assert feed_symbols(cfg) == {"SPY": "SPY", "SPY.SPY": "SPY", "SPY.IWM": "IWM"}
    plans = plan_feeds(cfg)[1]
    assert {name: (str(p.size), p.backfill_bars) for name, p in plans.items()} == {
        "SPY": ("1min", 0), "SPY.SPY": ("1d", 5), "SPY.IWM": ("1d", 5)}


def test_the_shipped_file_plans_the_same_layout():
    import yaml

    from runner.paper.feed_plan import plan_feeds

    root = Path(__file__).resolve().parents[2]
    cfg = validate_config(yaml.safe_load((root / "config" / "paper_vwap_filters.yaml").read_text()), "shipped")
    plans = plan_feeds(cfg)[1]
    assert {name: (p.ib_symbol, str(p.size)) for name, p in plans.items()} == {
        "SPY": ("SPY", "1min"), "SPY.SPY": ("SPY", "1d"), "SPY.QQQ": ("QQQ", "1d")}


@pytest.mark.parametrize("min_pct", [-100.0, 100.0], ids=["passes", "holds-back"])
def test_the_intraday_filter_decides_in_paper_as_in_the_backtest(min_pct, library, tmp_path):
    spy, iwm = minute_data()
    live = spy[spy.index.tz_convert("America/New_York").date >= START]
    bars = {"SPY": live, "SPY.SPY": to_daily(spy), "SPY.IWM": to_daily(iwm)}
    cfg = run_config(min_pct, tmp_path, library=library)
    backtest = run_backtest(cfg, bars)
    if min_pct < 0:
        assert len(backtest.trades) >= 1, "the data must hold a trade"
        assert backtest.trades["filters"].str.match(r"as of 2019-05-\d\d: rotation IWM/SPY 3s [+-]\d").all()
    else:
        assert backtest.trades.empty

    with SimulatedGateway(bars={"SPY": spy, "IWM": iwm}, speed=0, paused=True, wire_log=False,
                          session_pause=0.05, bar_pause=0.03, pacing_time_scale=0.01,
                          start=f"{START} 09:00") as gw:
        session = PaperSession(cfg.model_copy(update={"ib": cfg.ib.model_copy(update={"port": gw.port})}),
                               journal_dir=tmp_path / "logs")
        session.start()
        follow_session(gw, session, window=45 * 60)   # the replay waits for the session at every bar of the last
        # 45 minutes (the playbook acts from 15:30) and at every close: never a race
        worker = threading.Thread(target=session.run, daemon=True)
        worker.start()
        streams = lambda: sorted(sum(gw.realtime_subscriptions().values(), []))  # noqa: E731
        assert wait_for(lambda: set(streams()) == {"SPY", "IWM"}, 30), "subscribed before the replay starts"
        gw.resume()
        assert gw.wait_until_done(REPLAY_PATIENCE)
        assert wait_for(lambda: all(f.delivered and f.delivered[-1].time.date() >= LAST
                                    for f in session.feeds.values()), 30)
        wait_for(lambda: len(session.runlog.trades) >= len(backtest.trades), 30)
        gw.set_pause_hook(None)
        session.stop("test over")
        worker.join(PATIENCE)
        paper = session.runlog
        session.close()
    assert not worker.is_alive()
    orders, trades = paper.orders_frame(), paper.trades_frame()
    assert decisions(orders) == decisions(backtest.orders)
    assert trades["filters"].tolist() == backtest.trades["filters"].tolist()
