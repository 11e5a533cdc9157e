"""Webhook notifications: validated config, JSON bodies per format, and a failing or hanging webhook never
stops or delays trading (against the simulated gateway)."""
import pytest

from runner.config import validate_config
from runner.errors import ConfigError
from runner.paper.notify import Notifier, NotifyConfig, message_body
from runner.paper.session import PaperSession

from paper_sim import SessionThread, combined_config, gateway, minute_bars, replay_all, wait_for
from webhook_server import WebhookServer


def test_bodies_follow_the_chosen_format():
    generic = message_body(NotifyConfig(webhook="http://127.0.0.1:9/x"), "fill", "sold 10 SPY", "run1", "T")
    assert generic == {"event": "fill", "text": "sold 10 SPY", "content": "sold 10 SPY", "run": "run1", "time": "T"}
    discord = NotifyConfig(webhook="https://discord.com/api/webhooks/1/abc", format="discord")
    assert message_body(discord, "fill", "sold", "r", "T") == {"content": "sold"}
    telegram = NotifyConfig(webhook="https://api.telegram.org/botTOKEN/sendMessage", format="telegram", chat_id="42")
    assert message_body(telegram, "reject", "refused", "r", "T") == {"chat_id": "42", "text": "refused"}


@pytest.mark.parametrize("notify, message", [
    ({"webhook": "ftp://127.0.0.1/x"}, "notify.webhook"),
    ({"webhook": "http://127.0.0.1/x", "format": "telegram"}, "needs chat_id"),
    ({"webhook": "http://127.0.0.1/x", "events": ["fills"]}, "notify.events"),
    ({"webhook": "http://127.0.0.1/x", "hook": 1}, "notify.hook"),
])
def test_a_bad_notify_section_is_one_clear_message(tmp_path, notify, message):
    raw = combined_config(tmp_path, 4002, "ib_insync").model_dump(mode="json", exclude={"notify"})
    raw["notify"] = notify
    with pytest.raises(ConfigError) as refused:
        validate_config(raw, "paper.yaml")
    assert message in str(refused.value)


def test_a_hanging_webhook_fills_the_queue_and_sending_never_waits():
    with WebhookServer("hang") as hook:
        notifier = Notifier(NotifyConfig(webhook=hook.url, queue_size=2, timeout=30), "run")
        assert wait_for(lambda: notifier._thread.is_alive())
        notifier.send("fill", "first")              # taken by the worker, which then hangs on the webhook
        assert wait_for(lambda: len(hook.bodies) == 1)
        for n in range(5):
            notifier.send("fill", f"more {n}")      # two wait in the queue, three are dropped at once
        assert notifier.dropped == 3 and notifier.queue.qsize() == 2
        hook.release.set()
        assert wait_for(lambda: len(hook.bodies) == 3), "the queued messages go once the webhook answers"
        notifier.close()
    assert [b["text"] for b in hook.bodies] == ["first", "more 0", "more 1"]


def test_a_webhook_trickling_its_answer_is_given_up_on_at_the_timeout():
    """urllib's timeout is per socket operation: a byte every 0.2 s never trips it. The whole request is
    bounded: the next message goes out after ``timeout`` seconds."""
    with WebhookServer("trickle") as hook:
        notifier = Notifier(NotifyConfig(webhook=hook.url, timeout=1), "run")
        notifier.send("fill", "first")
        notifier.send("fill", "second")
        assert wait_for(lambda: len(hook.bodies) == 2), "the second message went out while the first trickled"
        assert wait_for(lambda: notifier.failed >= 1) and notifier.sent == 0
        notifier.close(wait=0.1)
    assert [b["text"] for b in hook.bodies] == ["first", "second"]


def test_events_not_chosen_are_not_sent():
    with WebhookServer() as hook:
        notifier = Notifier(NotifyConfig(webhook=hook.url, events=["risk_stop"]), "run")
        notifier.send("fill", "sold")
        notifier.send("risk_stop", "daily loss")
        notifier.close()
    assert hook.events() == ["risk_stop"]


def run_with_webhook(tmp_path, library, mode):
    bars = minute_bars()
    with WebhookServer(mode) as hook, gateway(bars) as gw:
        notify = {"webhook": hook.url, "timeout": 30 if mode == "hang" else 2, "queue_size": 1}
        session = PaperSession(combined_config(tmp_path, gw.port, library, notify=notify),
                               journal_dir=tmp_path / "logs", folder=tmp_path)
        runner = SessionThread(session, gw).start()
        try:
            replay_all(gw, session, bars)
            assert wait_for(lambda: len(session.runlog.trades) >= 2)
        finally:
            runner.finish()
        return session, hook


@pytest.mark.parametrize("mode", ["hang", "fail"])
def test_a_failing_or_hanging_webhook_never_stops_trading(library, tmp_path, mode):
    session, hook = run_with_webhook(tmp_path, library, mode)
    trades = session.runlog.trades_frame()
    # Both eligible sessions traded and were flat by their close, as with no webhook at all.
    assert len(trades) == 2 and (trades["entry_time"].str[:10] == trades["exit_time"].str[:10]).all()
    assert hook.bodies, "the webhook was called"
    notifier = session.monitor.notifier
    if mode == "hang":
        assert notifier.dropped >= 1, "messages beyond the queue were dropped, not waited for"
    else:
        assert notifier.failed >= 1 and notifier.sent == 0


def test_the_brokers_stale_exit_alert_reaches_the_webhook(library, tmp_path):
    """Issue 10, defect 10: the broker's alert for a time exit due while the gateway has lost IB is a webhook
    event (``stale_exit``) of the session, on by default (runner/ib/broker_stale.py raises it)."""
    bars = minute_bars()
    with WebhookServer() as hook, gateway(bars) as gw:
        session = PaperSession(combined_config(tmp_path, gw.port, library, notify={"webhook": hook.url}),
                               journal_dir=tmp_path / "logs", folder=tmp_path)
        session.start()
        try:
            session.broker.on_alert("stale_exit", "SPY: time exit due while 1100 lasts")
            assert wait_for(lambda: "stale_exit" in hook.events())
        finally:
            session.close()
    assert [b["text"] for b in hook.bodies if b["event"] == "stale_exit"] == ["SPY: time exit due while 1100 lasts"]
