"""A refusal by the gateway is one event and one line, at ERROR, said by the store in its own words.

The broker's own record of it (the order turned Rejected) is kept at DEBUG for run.log; the client library's
line is DEBUG too (runner.ib.library_noise). Both libraries, against the simulated gateway.
"""
import backtrader as bt
from loguru import logger

from harness import WARMUP, Recorder, gateway, live_run
from test_order_defects import bars, finish, go_live  # noqa: F401 - bars is a fixture


def console_lines(run_test) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    sink = logger.add(lambda m: lines.append((m.record["level"].name, m.record["message"])), level="INFO")
    try:
        run_test()
    finally:
        logger.remove(sink)
    return lines


def test_an_off_tick_refusal_is_said_once_at_error(library, bars, tmp_path, monkeypatch):  # noqa: F811
    def plan(s, n):
        if n == WARMUP + 1:
            s.sell(size=1, exectype=bt.Order.Stop, price=1.2345678).addinfo(name="off_tick")

    def run_test():
        with gateway(bars) as gw:
            run = live_run(gw, library, Recorder, tmp_path, plan=plan)
            monkeypatch.setattr(type(run.broker), "_min_tick", lambda self, data: 1e-7)   # nothing rounds
            strategy = finish(gw, go_live(run), bars)
        assert strategy.statuses("off_tick") == ["Submitted", "Rejected"]

    lines = console_lines(run_test)
    about = [(level, text) for level, text in lines if "110" in text or "rejected" in text.lower()
             or "minimum tick" in text]
    assert len(about) == 1, about
    level, text = about[0]
    assert level == "ERROR" and "not on the contract's minimum tick" in text and text.startswith("order flowbot:")


def test_a_gateway_reject_is_said_once_at_error(library, bars, tmp_path):  # noqa: F811
    def plan(s, n):
        if n == WARMUP + 1:
            s.buy(size=1).addinfo(name="entry")

    def run_test():
        with gateway(bars) as gw:
            gw.reject_next_orders(1, reason="no trading permissions", order_type="MKT")
            strategy = finish(gw, go_live(live_run(gw, library, Recorder, tmp_path, plan=plan)), bars)
        assert strategy.statuses("entry")[-1] == "Rejected"

    lines = console_lines(run_test)
    about = [(level, text) for level, text in lines if "no trading permissions" in text or "rejected" in text.lower()]
    assert [level for level, _ in about] == ["ERROR"], about
    assert "rejected by the gateway: no trading permissions" in about[0][1]
