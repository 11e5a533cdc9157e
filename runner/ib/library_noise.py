"""What the gateway's and the IB libraries' messages mean, at the level they deserve.

ib_insync / ib_async log every gateway message as ``Error <code>, reqId <id>: <text>``; many are
routine (our own cancel confirmed, a cancel that was not needed, a history request with nothing to
return) and read like failures. :func:`describe` maps a code to (level, meaning); :class:`LibraryNoise`
is a ``logging.Filter`` on the libraries' loggers that rewrites their lines with it, and the store
uses :func:`describe` for its own order-error lines. Unknown codes keep the library's level.

An error about one of this bot's orders (110 price off the tick, 201 rejected, ...) is said once, by the
store, at ERROR with what it means; the library's own line about it (logged at ERROR by ib_insync /
ib_async) is kept at DEBUG for the file log only (``reported_by_store``).
"""
from __future__ import annotations

import logging
import re
from typing import Callable

LIBRARY_LOGGERS = ("ib_insync.wrapper", "ib_async.wrapper", "ib_insync.ib", "ib_async.ib")

_LINE = re.compile(r"^(?:Warning|Error) (?P<code>-?\d+), reqId (?P<req>-?\d+): (?P<text>.*?)(?:, contract: .*)?$", re.S)
_CANCELLED_BY_LIBRARY = re.compile(r"^Canceled order: .*?orderRef='(?P<ref>[^']*)'", re.S)
_STATE = re.compile(r"state: (\w+)")

#: code -> (level, meaning); ``{state}`` is filled from the text where the gateway names it.
MEANINGS: dict[int, tuple[str, str]] = {
    10147: ("INFO", "cancel not needed: the order is no longer at the gateway"),
    10148: ("INFO", "cancel not needed: the order was already {state}"),
    161: ("INFO", "cancel not needed: the order was already done"),
    2104: ("DEBUG", "market data farm connected"),
    2106: ("DEBUG", "historical data farm connected"),
    2158: ("DEBUG", "security definition server connected"),
    2107: ("DEBUG", "historical data farm idle (connects on demand)"),
    2108: ("DEBUG", "market data farm idle (connects on demand)"),
    2103: ("WARNING", "market data farm connection broken; IB reconnects it"),
    2105: ("WARNING", "historical data farm connection broken; IB reconnects it"),
    2157: ("WARNING", "security definition server connection broken"),
    399: ("INFO", "order accepted; it waits for the session it is valid in"),
    2109: ("INFO", "outside-regular-hours flag ignored for this order type"),
    10349: ("INFO", "time in force set to DAY by the gateway's order preset"),
    10311: ("INFO", "order routed directly to the exchange"),
    10167: ("WARNING", "delayed market data shown (no live subscription)"),
    10197: ("WARNING", "no market data: another session of this user holds the live data"),
    110: ("ERROR", "refused by the gateway: the price is not on the contract's minimum tick"),
    103: ("ERROR", "refused by the gateway: duplicate order id"),
    105: ("ERROR", "refused by the gateway: the modification does not match the order"),
    135: ("ERROR", "refused by the gateway: the order to modify is not found"),
    200: ("ERROR", "refused by the gateway: no security definition for the contract"),
    321: ("ERROR", "refused by the gateway: the order did not validate"),
    387: ("ERROR", "refused by the gateway: unsupported order type for this exchange"),
}

_REJECT_REASON = re.compile(r"reason:\s*(?P<reason>.*)$", re.S | re.I)


def describe(code: int, text: str, own_cancel: bool = False) -> tuple[str, str]:
    """(level, one line) for a gateway message; unknown codes are an ERROR with the gateway's words."""
    if code == 202:
        return ("INFO", "cancelled as asked") if own_cancel else \
            ("WARNING", f"cancelled by the gateway: {text.strip() or 'no reason given'}")
    if code == 162 and "HMDS query returned no data" in text:
        return "INFO", "no history for this request (IB has no bars for it)"
    if code in (162, 420) and "pacing violation" in text.lower():
        return "INFO", "pacing violation: the request is retried after a pause"
    if code == 201:
        reason = _REJECT_REASON.search(text)
        reason = reason.group("reason").strip() if reason else ""
        return "ERROR", f"rejected by the gateway: {reason or text.strip() or 'no reason given'}"
    if code in MEANINGS:
        level, meaning = MEANINGS[code]
        state = _STATE.search(text)
        return level, meaning.format(state=state.group(1).lower() if state else "done")
    return "ERROR", text


def said(code: int, text: str, meaning: str) -> str:
    """``meaning (code: text)``, or ``gateway error code: text`` when the code has no meaning of its own."""
    text = text.strip()
    return f"{meaning} ({code}: {text})" if meaning.strip() != text else f"gateway error {code}: {text}"


class LibraryNoise(logging.Filter):
    """Rewrites the IB libraries' log lines with :func:`describe`.

    ``own_cancel(order_id)`` says whether this bot asked to cancel that order; ``order_ref(order_id)``
    names it (both from the store, whose thread logs these lines).
    """

    def __init__(self, own_cancel: Callable[[int], bool] = lambda order_id: False,
                 order_ref: Callable[[int], str | None] = lambda order_id: None,
                 reported_by_store: Callable[[int, int], bool] = lambda code, req_id: False) -> None:
        super().__init__()
        self.own_cancel = own_cancel
        self.order_ref = order_ref
        self.reported_by_store = reported_by_store

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        line = _LINE.match(message)
        if line is not None:
            code, req, text = int(line["code"]), int(line["req"]), line["text"]
            if code in (1100, 1101, 1102, 2110, 326):
                return True   # connectivity and client id: the store says what they mean
            level, meaning = describe(code, text, own_cancel=self._own(req))
            if self._reported(code, req):
                level = "DEBUG"   # the store says it once, at its level (see module doc)
            elif level == "ERROR" and record.levelno < logging.ERROR:
                return True   # the library knew better (e.g. 110 as a warning): keep its level
            ref = self.order_ref(req) if req > 0 else None
            about = f"order {ref}: " if ref else (f"request {req}: " if req > 0 else "")
            self._rewrite(record, level, about + said(code, text, meaning))
            return True
        cancelled = _CANCELLED_BY_LIBRARY.match(message)
        if cancelled is not None:
            self._rewrite(record, "INFO", f"order {cancelled['ref']}: marked cancelled by the client library after "
                                          f"the gateway's error; the broker reports it")
        return True

    def _reported(self, code: int, req: int) -> bool:
        try:
            return req > 0 and bool(self.reported_by_store(code, req))
        except Exception:   # noqa: BLE001 - a log filter must never raise into the library
            return False

    def _own(self, order_id: int) -> bool:
        try:
            return bool(self.own_cancel(order_id))
        except Exception:   # noqa: BLE001 - a log filter must never raise into the library
            return False

    @staticmethod
    def _rewrite(record: logging.LogRecord, level: str, message: str) -> None:
        record.levelno = logging.getLevelName(level)
        record.levelname = level
        record.msg, record.args = message, ()


def install(noise: LibraryNoise) -> Callable[[], None]:
    """Attach ``noise`` to the libraries' loggers; returns the function that detaches it."""
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    for lg in loggers:
        lg.addFilter(noise)

    def remove() -> None:
        for lg in loggers:
            lg.removeFilter(noise)
    return remove


def store_noise(store) -> LibraryNoise:
    """The filter for one store: our own cancels are orders whose trade log shows a PendingCancel we sent."""
    def trade_of(order_id: int):
        ib = getattr(store, "ib", None)
        return next((t for t in (ib.trades() if ib is not None else ()) if t.order.orderId == order_id), None)

    def own_cancel(order_id: int) -> bool:
        trade = trade_of(order_id)
        return trade is not None and any(e.status == "PendingCancel" for e in trade.log)

    def reported_by_store(code: int, order_id: int) -> bool:   # as the store's error handler decides
        from runner.ib import compat
        return order_id in store._ref_by_order_id and compat.classify_error(code) == "error"

    return LibraryNoise(own_cancel=own_cancel, order_ref=lambda order_id: store._ref_by_order_id.get(order_id),
                        reported_by_store=reported_by_store)
