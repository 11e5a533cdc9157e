"""A paper session as its operator sees it, against the simulated gateway (both libraries).

While it runs: a line per completed bar at INFO (time with zone, close, position, open orders, P&L),
status.json rewritten on every event, orders.csv / trades.csv current on disk, the status page
answering GET only, webhook notifications for fills. At the end: status.json says stopped.
"""
import csv
import logging
import json
import urllib.error
import urllib.request

import pytest
from loguru import logger

from runner.paper.session import PaperSession
from runner.paper.status_file import read_status

from paper_sim import SessionThread, combined_config, gateway, minute_bars, replay_all, wait_for, wait_until_live
from webhook_server import WebhookServer


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def get(url):
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.status, answer.headers.get("Content-Type"), answer.read().decode()


@pytest.fixture
def log_lines():
    lines = []
    sink = logger.add(lambda m: lines.append(str(m)), level="INFO", format="{level} {message}")
    yield lines
    logger.remove(sink)


def test_the_operator_sees_bars_orders_fills_and_notifications_as_they_happen(library, tmp_path, log_lines, caplog):
    caplog.set_level(logging.DEBUG)
    bars = minute_bars()
    run = tmp_path / "run"
    run.mkdir()
    with WebhookServer() as hook, gateway(bars) as gw:
        cfg = combined_config(tmp_path, gw.port, library, notify={"webhook": hook.url})
        session = PaperSession(cfg, journal_dir=tmp_path / "logs", folder=run, status_port=0)
        runner = SessionThread(session, gw).start()
        try:
            page = f"http://127.0.0.1:{session.monitor.page.port}"
            assert session.monitor.page.server.server_address[0] == "127.0.0.1"
            wait_until_live(gw, session)
            gw.resume()
            # Mid-session, with the process still trading: a fill is on disk and on the page.
            assert wait_for(lambda: read_status(run)["fills"]), "status.json shows the first fill"
            on_disk = rows(run / "orders.csv")
            assert any(r["status"] == "Completed" for r in on_disk), "orders.csv is current while running"
            assert runner.thread.is_alive()
            code, kind, text = get(page + "/status.json")
            live = json.loads(text)
            assert code == 200 and kind == "application/json" and live["state"] == "live"
            assert live["connection"]["state"] == "connected" and live["fills"]
            code, kind, html = get(page + "/")
            assert code == 200 and "Working orders" in html and "connected" in html
            for method in ("POST", "PUT", "DELETE"):
                request = urllib.request.Request(page + "/", data=b"x", method=method)
                with pytest.raises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(request, timeout=30)
                assert refused.value.code == 405
            assert wait_for(lambda: "fill" in hook.events()), "the webhook heard of the fill"
            gw.wait_until_done(240)
            replay_all(gw, session, bars)
            assert wait_for(lambda: len(session.runlog.trades) >= 2)
            # The strategies (and the live view after them) act on the last bar a moment after it is delivered.
            assert wait_for(lambda: sum(line.startswith("INFO SPY@1min 1min bar ") for line in log_lines)
                            == len(session.feeds["SPY@1min"].delivered))
        finally:
            runner.finish()
    # Library noise said as what it means: routine cancels and empty history are never warnings or errors.
    library = [(r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith(("ib_insync", "ib_async"))]
    assert not [m for lv, m in library if lv in ("WARNING", "ERROR") and ("202" in m or "1014" in m)]
    final = read_status(run)
    assert final["state"] == "stopped" and final["stop_reason"] == "test over"
    assert set(final["last_bar"]) == {"SPY", "SPY@1min"}
    assert final["last_bar"]["SPY"]["bar_size"] == "1d"
    trades = rows(run / "trades.csv")
    assert len(trades) == len(session.runlog.trades) and all(t["exit_reason"] != "open" for t in trades)
    fills = [b for b in hook.bodies if b["event"] == "fill"]
    assert len(fills) == sum(1 for r in rows(run / "orders.csv") if r["status"] in ("Completed", "Partial"))
    assert all(b["run"] == "combined-paper" and b["content"] == b["text"] for b in fills)
    # One INFO line per completed live bar, with the zone, the close, the position, open orders and P&L.
    minute_lines = [line for line in log_lines if line.startswith("INFO SPY@1min 1min bar ")]
    daily_lines = [line for line in log_lines if line.startswith("INFO SPY 1d bar ")]
    assert len(minute_lines) == len(session.feeds["SPY@1min"].delivered)
    # The backfill's last bar (the session goes live on it), then one per live session: how many
    # sessions ran live depends on the machine's speed, so count the daily bars after the backfill.
    daily = session.feeds["SPY"]
    live_daily = [b for b in daily.delivered if daily.live_since is None or b.time > daily.live_since]
    assert live_daily and len(live_daily) <= len(daily_lines) <= len(live_daily) + 1, (daily_lines, live_daily)
    assert len(set(daily_lines)) == len(daily_lines), "each session's bar said once"
    assert " EDT: close " in daily_lines[0] and "position SPY" in daily_lines[0] and "open order(s), P&L" in daily_lines[0]


def test_a_restart_says_resuming_instead_of_the_original_signal(library, tmp_path, log_lines):
    bars = minute_bars()
    with gateway(bars) as gw:
        (tmp_path / "run1").mkdir()
        first = PaperSession(combined_config(tmp_path, gw.port, library), journal_dir=tmp_path / "logs",
                             folder=tmp_path / "run1")
        runner = SessionThread(first, gw).start()
        try:
            wait_until_live(gw, first)
            gw.resume()
            # The entry filled and its exits are working: stop there, as a crash or Ctrl-C would.
            assert wait_for(lambda: read_status(tmp_path / "run1")["fills"]
                            and read_status(tmp_path / "run1")["working_orders"])
            gw.pause()
        finally:
            runner.finish()
        signals = [line for line in log_lines if " at the next open " in line]
        assert len(signals) == 1 and signals[0].startswith("INFO ")
        log_lines.clear()
        backfill = {"1d": 1, "1min": 390}   # the replay covers the session up to the entry (its VWAP from the open)
        cfg = combined_config(tmp_path, gw.port, library)
        cfg.ib.backfill_bars = backfill
        (tmp_path / "run2").mkdir()
        second = PaperSession(cfg, journal_dir=tmp_path / "logs", folder=tmp_path / "run2")
        runner = SessionThread(second, gw).start()
        try:
            wait_until_live(gw, second)
            gw.resume()
            assert wait_for(lambda: any(line.startswith("INFO resuming: ") for line in log_lines))
        finally:
            runner.finish()
    resuming = next(line for line in log_lines if line.startswith("INFO resuming: "))
    # The journal tells whose the account's SPY short is: the VWAP fade's feed, not the daily one.
    assert "positions SPY@1min -" in resuming and "working orders vwap_close_fade:" in resuming
    # The replay sees the 1-minute feed flat at the session's start (its own fills come later), so the
    # position it opened this morning is not taken for one held overnight: its exits are followed.
    assert "stop buy" in resuming and "overnight_flatten" not in resuming
    assert not [line for line in log_lines if "held overnight" in line]
    assert not [line for line in log_lines if " at the next open " in line and line.startswith("INFO ")]
