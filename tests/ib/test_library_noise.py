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
    (201, "Order rejected - reason: margin", False, "ERROR", "Order rejected - reason: margin"),
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
    assert lines[4] == ("ERROR", "order flowbot:x:9: gateway error 201: Order rejected - reason: no shares to short")
    # Detached: the library's own words again.
    caplog.clear()
    logging.getLogger(f"{library}.wrapper").error("Error 10147, reqId 3: OrderId 3 that needs to be cancelled is "
                                                 "not found.")
    assert caplog.records[0].levelname == "ERROR"
