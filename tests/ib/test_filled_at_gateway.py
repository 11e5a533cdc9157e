"""``IBBroker.filled_at_gateway``: the shares of an order executed at the gateway, including a fill that waits for
its commission report (the gateway sends it 100-300 ms after the execution; the broker books the fill then), and
the vwap fade's "entry still working" WARNING, which says that count rather than only what was booked."""
import datetime as dt
import types

import backtrader as bt
import pandas as pd

from runner.ib import broker_fills, events

from test_broker import run, status

WHEN = dt.datetime(2024, 3, 5, 14, 30, tzinfo=dt.timezone.utc)


def part_filled_waiting_for_its_report(gw, spec):
    """4 of 10 executed; the commission report of that execution has not come."""
    return [status(spec, "PreSubmitted", 0, 10), status(spec, "Submitted", 0, 10),
            events.Execution(spec.orderRef, "e1", WHEN, "SPY", "BOT", 4, 101.0), status(spec, "Submitted", 4, 6)]


def test_a_fill_waiting_for_its_commission_report_counts_as_executed(tmp_path, monkeypatch):
    monkeypatch.setattr(broker_fills, "COMMISSION_WAIT", 10_000.0)   # the report never comes within the run
    strategy, broker, _ = run(tmp_path, lambda s: [s.buy(size=10)], part_filled_waiting_for_its_report)
    order = strategy.orders[0]
    assert order.executed.size == 0, "not booked: its commission report has not come"
    assert broker.filled_at_gateway(order) == 4
    broker._on_commission(events.Commission("e1", 1.0))   # the report: booked, counted once
    assert order.executed.size == 4 and broker.filled_at_gateway(order) == 4


def test_the_still_working_warning_counts_the_fill_waiting_for_its_report():
    from strategies.vwap_close_fade import VwapCloseFade

    said, cancelled = [], []
    entry = types.SimpleNamespace(executed=types.SimpleNamespace(size=0.0), created=types.SimpleNamespace(size=349.0))
    fade = types.SimpleNamespace(
        entry_order=entry, bars=types.SimpleNamespace(datetime=[bt.date2num(pd.Timestamp("2019-05-29 15:49"))]),
        exchange_time=lambda when: "2019-05-29 15:49", log=types.SimpleNamespace(warning=said.append),
        cancel=cancelled.append, broker=types.SimpleNamespace(filled_at_gateway=lambda order: 100.0))
    VwapCloseFade._cancel_late_entry(fade)
    assert cancelled == [entry]
    assert "still working, 100 of 349 filled" in said[0], said
    del fade.broker.filled_at_gateway                      # a backtest's broker: what it executed
    VwapCloseFade._cancel_late_entry(fade)
    assert "still working, 0 of 349 filled" in said[1], said
