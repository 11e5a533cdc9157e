"""Daily and 1-minute playbooks in one paper session: one IB connection, each playbook at its own bar size."""
import datetime as dt

from runner.config import load_config
from runner.paper.feed_plan import plan_feeds
from runner.paper.session import PaperSession

from paper_sim import SessionThread, combined_config, gateway, minute_bars, replay_all, wait_for


def test_the_shipped_paper_config_runs_all_three_playbooks_in_one_session():
    cfg = load_config("config/paper.yaml")
    run_cfg, plans = plan_feeds(cfg)
    assert {s.name for s in cfg.active_strategies()} == {"december_fade", "january_snapback", "vwap_close_fade"}
    assert {name: (p.ib_symbol, str(p.size)) for name, p in plans.items()} == {
        "SPY": ("SPY", "1d"), "SPY.bonds": ("IEF", "1d"), "IWM": ("IWM", "1d"), "SPY@1min": ("SPY", "1min")}
    by_name = {s.name: s.symbol for s in run_cfg.strategies}
    assert by_name["vwap_close_fade"] == "SPY@1min" and by_name["december_fade"] == "SPY"


def test_a_forced_bar_size_gives_every_playbook_that_size(tmp_path):
    cfg = combined_config(tmp_path, 4002, "ib_insync")
    cfg.ib.bar_size = "1min"
    _, plans = plan_feeds(cfg)
    assert {name: str(p.size) for name, p in plans.items()} == {"SPY": "1min"}


def traded_session(library, tmp_path, bars, trades: int, account=None):
    """The combined daily + 1-minute session run over ``bars`` against the simulator until it has made
    ``trades`` trades; ``account(gw.account)`` first sets up the account. (session, gateway, the 5-second streams it subscribed), both ended."""
    with gateway(bars) as gw:
        if account is not None:
            account(gw.account)
        session = PaperSession(combined_config(tmp_path, gw.port, library), journal_dir=tmp_path / "logs")
        runner = SessionThread(session, gw).start()
        try:
            replay_all(gw, session, bars)
            assert wait_for(lambda: len(session.runlog.trades) >= trades), f"{trades} trade(s) made"
            streams = sum(gw.realtime_subscriptions().values(), [])
        finally:
            runner.finish()
    return session, gw, streams


def test_daily_and_minute_feeds_of_one_symbol_share_one_connection(library, tmp_path):
    bars = minute_bars()
    session, _, streams = traded_session(library, tmp_path, bars, trades=1)
    assert streams == ["SPY"], "one 5-second stream for both feeds"
    daily, minutes = session.feeds["SPY"], session.feeds["SPY@1min"]
    live_days = sorted({d.date() for d in bars.index})[1:]        # the first session is the daily backfill
    assert [b.time.date() for b in daily.delivered] == sorted({d.date() for d in bars.index})
    assert len(minutes.delivered) == sum(len(bars[bars.index.date == day]) for day in live_days)
    trades = session.runlog.trades_frame()
    assert set(trades["strategy"]) == {"vwap_close_fade"}
    assert set(trades["symbol"]) == {"SPY@1min"}
    assert {dt.date.fromisoformat(t[:10]) for t in trades["entry_time"]} <= set(live_days)
    # The minute feed keeps pace beside the daily one: every trade is flat by its own close.
    assert (trades["entry_time"].str[:10] == trades["exit_time"].str[:10]).all()
    assert "overnight_flatten" not in set(session.runlog.orders_frame()["reason"])


def test_each_playbook_sees_its_own_position_in_a_shared_symbol(library, tmp_path):
    """The account is short SPY from the December fade when the session starts: the VWAP fade, on SPY too,
    must not take that short for an overnight position of its own and flatten it."""
    session, gw, _ = traded_session(library, tmp_path, minute_bars(), trades=2,
                                    account=lambda account: account.apply_fill("SPY", -27, 272.0, 1.0))
    broker = session.broker
    assert broker.getposition(session.feeds["SPY"]).size == -27        # the December fade's short
    assert broker.getposition(session.feeds["SPY@1min"]).size == 0     # the VWAP fade: flat by each close
    assert broker.positions["SPY"].size == -27                          # the account: both together
    assert "overnight_flatten" not in set(session.runlog.orders_frame()["reason"])
    assert gw.account.positions["SPY"].quantity == -27


def test_every_fill_is_booked_with_its_commission_even_when_its_oca_siblings_cancel_first(library, tmp_path):
    """The market-on-close exit fills and the gateway cancels its stop and target at once, while the fill's
    commission report (100-300 ms after it) is still on its way: the fill waits for it, so orders.csv, the
    trade and the realised P&L carry the commission the gateway charged."""
    session, _, _ = traded_session(library, tmp_path, minute_bars(), trades=1)
    orders = session.runlog.orders_frame()
    fills = orders[orders["status"] == "Completed"]
    assert len(fills) >= 2 and (fills["commission"] >= 1.0).all(), fills.to_string()
    trades = session.runlog.trades_frame()
    assert (trades["commission"] >= 2.0).all(), trades.to_string()   # entry and exit: the gateway's minimum each
