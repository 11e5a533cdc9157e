"""Gateway and library messages said as what they mean, at the level they deserve."""
import logging

import pytest

from runner.ib.library_noise import LibraryNoise, describe, install


@pytest.mark.parametrize("code, text, own, level, words", [
    (202, "Order Canceled - reason:", True, "INFO", "cancelled as asked"),
    (202, "Order Canceled - reason: expired", False, "WARNING", "cancelled by the gateway: Order Canceled - reason: expired"),
    (10147, "OrderId 12 that needs to be cancelled is not found.", False, "INFO", "no longer at the gateway"),
    (10148, "OrderId 10 that needs to be cancelled cannot be cancelled, state: Filled.", False, "INFO", "already filled"),
    (162, "Historical Market Data Service error message:HMDS query returned no data: SPY", False, "INFO", "no history"),
    (162, "Historical Market Data Service error message:API historical data query cancelled: 3", False, "ERROR",
     "query cancelled"),
    (162, "Historical Market Data Service error message:Pacing violation", False, "INFO", "retried after a pause"),
    (2104, "Market data farm connection is OK:usfarm", False, "DEBUG", "farm connected"),
    (201, "Order rejected - reason: margin", False, "ERROR", "rejected by the gateway: margin"),
    (110, "The price does not conform to the minimum price variation for this contract.", False, "ERROR",
     "not on the contract's minimum tick"),
])
def test_describe(code, text, own, level, words):
    got_level, meaning = describe(code, text, own_cancel=own)
    assert got_level == level and words in meaning


def record(name, level, message):
    return logging.LogRecord(name, level, __file__, 1, message, (), None)


@pytest.mark.parametrize("library", ["ib_insync", "ib_async"])
def test_library_lines_are_rewritten_on_their_loggers(library, caplog):
    noise = LibraryNoise(own_cancel=lambda order_id: order_id == 7, order_ref=lambda order_id: f"flowbot:x:{order_id}" if order_id in (7, 8, 9) else None)
    remove = install(noise)
    try:
        caplog.set_level(logging.DEBUG)
        wrapper = logging.getLogger(f"{library}.wrapper")
        wrapper.info("Warning 202, reqId 7: Order Canceled - reason:")
        wrapper.error("Error 10148, reqId 8: OrderId 8 that needs to be cancelled cannot be cancelled, state: "
                      "Cancelled.")
        wrapper.error("Error 162, reqId 21: Historical Market Data Service error message:HMDS query returned no "
                      "data: SPY, contract: Stock(symbol='SPY')")
        wrapper.warning("Canceled order: Trade(contract=Stock(symbol='SPY'), order=LimitOrder(orderId=9, "
                        "orderRef='flowbot:vwap:SPY:1'), orderStatus=OrderStatus(status='Cancelled'))")
        wrapper.error("Error 201, reqId 9: Order rejected - reason: no shares to short")
    finally:
        remove()
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines[0] == ("INFO", "order flowbot:x:7: cancelled as asked (202: Order Canceled - reason:)")
    assert lines[1][0] == "INFO" and lines[1][1].startswith("order flowbot:x:8: cancel not needed: the order was "
                                                            "already cancelled")
    assert lines[2][0] == "INFO" and lines[2][1].startswith("request 21: no history for this request")
    assert "Stock(" not in lines[2][1]
    assert lines[3] == ("INFO", "order flowbot:vwap:SPY:1: marked cancelled by the client library after the "
                                "gateway's error; the broker reports it")
    assert lines[4] == ("ERROR", "order flowbot:x:9: rejected by the gateway: no shares to short (201: Order rejected "
                                 "- reason: no shares to short)")
    # Detached: the library's own words again.
    caplog.clear()
    logging.getLogger(f"{library}.wrapper").error("Error 10147, reqId 3: OrderId 3 that needs to be cancelled is "
                                                 "not found.")
    assert caplog.records[0].levelname == "ERROR"


@pytest.mark.parametrize("library", ["ib_insync", "ib_async"])
def test_an_error_the_store_reports_is_kept_at_debug_on_the_library_logger(library, caplog):
    noise = LibraryNoise(order_ref=lambda order_id: "flowbot:x:9", reported_by_store=lambda code, req: req == 9)
    remove = install(noise)
    try:
        caplog.set_level(logging.DEBUG)
        logging.getLogger(f"{library}.wrapper").error(
            "Error 110, reqId 9: The price does not conform to the minimum price variation for this contract.")
    finally:
        remove()
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("DEBUG", "order flowbot:x:9: refused by the gateway: the price is not on the contract's minimum tick (110: "
                  "The price does not conform to the minimum price variation for this contract.)")]


# -- against the simulated gateway: what the user sees of a 110 and a 201 ----------------------------------
def _seen_lines(library, tmp_path, caplog, arrange):
    """Run a daily replay with ``arrange(gw, run)`` armed; return (loguru lines, library records >= WARNING)."""
    from loguru import logger

    from harness import REPLAY_PATIENCE, Recorder, gateway, live_run, synthetic_daily, SESSIONS, wait_for
    from runner.ib.library_noise import store_noise

    bars = synthetic_daily(1, SESSIONS)
    seen = []
    sink = logger.add(lambda m: seen.append((m.record["level"].name, m.record["message"])), level="DEBUG")
    caplog.set_level(logging.DEBUG)
    try:
        with gateway(bars) as gw:
            run = arrange(gw, lambda plan: live_run(gw, library, Recorder, tmp_path, plan=plan))
            remove = install(store_noise(run.store))
            try:
                run.start()
                assert wait_for(lambda: run.store.feeds and all(not f.backfilling for f in run.feeds.values())
                                and run.cerebro.runningstrats)
                gw.resume()
                assert gw.wait_until_done(REPLAY_PATIENCE)
                last = bars.index[-1].date()
                assert wait_for(lambda: run.strategy.bars and run.strategy.bars[-1][0] >= last)
                run.stop()
            finally:
                remove()
    finally:
        logger.remove(sink)
    library_lines = [(r.levelname, r.getMessage()) for r in caplog.records
                     if r.name.startswith(library) and r.levelno >= logging.WARNING]
    return seen, library_lines


@pytest.mark.parametrize("library", ["ib_insync", "ib_async"])
@pytest.mark.parametrize("case", ["110", "201"])
def test_a_refused_order_is_one_error_line_not_the_libraries_raw_lines(library, case, tmp_path, caplog,
                                                                      monkeypatch):
    import backtrader as bt

    from harness import WARMUP

    def plan(s, n):
        if n == WARMUP + 1:
            s.sell(size=1, exectype=bt.Order.Stop, price=1.2345678).addinfo(name="refused")

    def arrange(gw, make):
        run = make(plan)
        if case == "110":
            monkeypatch.setattr(type(run.broker), "_min_tick", lambda self, data: 1e-7)   # the price stays off-tick
        else:
            gw.reject_next_orders(1, reason="no shares to short", order_type="STP")
            monkeypatch.setattr(type(run.broker), "_min_tick", lambda self, data: 0.01)
        return run

    seen, library_lines = _seen_lines(library, tmp_path, caplog, arrange)
    about = [(level, line) for level, line in seen if f"({case}:" in line]
    errors = [line for level, line in about if level == "ERROR"]
    assert len(errors) == 1, about
    words = "not on the contract's minimum tick" if case == "110" else "rejected by the gateway: no shares to short"
    assert words in errors[0] and errors[0].startswith("order flowbot:")
    assert not [line for line in library_lines if f"{case}," in line or f" {case}:" in line], library_lines
