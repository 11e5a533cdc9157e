"""Issue 10: a paper session whose real-time bars stop with no error (the simulator's ``stall_bars``):
the webhook's ``feed_stalled`` event, status.json's ``stale_feeds`` while it lasts, cleared once the
resubscribed bars flow again. Waits on the session's files and the webhook, never on the clock."""
from runner.paper.session import PaperSession
from runner.paper.status_file import read_status

from paper_sim import SessionThread, combined_config, gateway, minute_bars, wait_for, wait_until_live
from webhook_server import WebhookServer


def test_a_stalled_feed_reaches_the_webhook_and_status_json_until_it_flows_again(library, tmp_path):
    bars = minute_bars()
    day = bars.index[-1].date()   # a replayed session (the first is history)
    with WebhookServer() as hook, gateway(bars) as gw:
        session = PaperSession(combined_config(tmp_path, gw.port, library, notify={"webhook": hook.url}),
                               journal_dir=tmp_path / "logs", folder=tmp_path)
        runner = SessionThread(session, gw).start()
        try:
            wait_until_live(gw, session)
            gw.advance_to(f"{day} 10:00")
            minute = next(name for name, f in session.feeds.items() if not f.size.daily)
            assert wait_for(lambda: session.feeds[minute].delivered
                            and session.feeds[minute].delivered[-1].time.hour >= 9), "live"
            gw.stall_bars("SPY")
            gw.advance_to(f"{day} 10:06")          # 1-minute bars: three of them without a 5-second bar
            assert wait_for(lambda: "feed_stalled" in hook.events()), "the webhook hears of it"
            assert wait_for(lambda: minute in read_status(tmp_path)["stale_feeds"])
            stale = read_status(tmp_path)["stale_feeds"]
            assert list(stale) == [minute], "the daily feed of the same stream is not stalled before its close"
            assert "no real-time bar" in stale[minute]["message"] and stale[minute]["since"].startswith(str(day))
            gw.advance_to(f"{day} 10:10")          # the resubscribed stream flows
            assert wait_for(lambda: not read_status(tmp_path)["stale_feeds"]), "cleared once bars flow again"
            # status.json is rewritten on every event: the cleared flag and the event may be two writes
            assert wait_for(lambda: any(e["kind"] == "feed_flowing" for e in read_status(tmp_path)["events"]))
            assert session.store.bar_restarts == {"SPY": 1}
            assert wait_for(lambda: "feed_flowing" in hook.events()), "the webhook hears that it is over"
        finally:
            runner.finish()
    texts = [b["text"] for b in hook.bodies if b["event"] == "feed_stalled"]
    assert len(texts) == 1 and minute in texts[0]
