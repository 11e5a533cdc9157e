"""The order side of :class:`runner.ib.store.IBStore`: sending, cancelling, and the gateway's order events.

Orders leave the backtrader thread through :meth:`OrderRouting.place` /
:meth:`OrderRouting.cancel`, which hop onto the IB loop; every order is
journaled before it is sent. Status, execution, commission and position
events from the gateway are journaled and emitted as :mod:`runner.ib.events`
messages. The mixin uses the store's ``ib``, ``lib``, ``cfg``, ``journal``,
``account``, ``log``, ``trace``, ``_loop``, ``_ref_by_order_id`` and ``_emit``.
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

from runner.ib import compat, events
from runner.ib.journal import OrderIntent
from runner.ib.orders import OrderSpec, to_ib_order

UTC = dt.timezone.utc
#: Errors that refuse a new order which a library may take for a warning (the order never exists).
REFUSED_NEW_ORDER = frozenset({105, 110, 321, 434})


class OrderRouting:
    # -- orders (called from the backtrader thread) --------------------------
    def place(self, contract: Any, specs: list[OrderSpec]) -> None:
        """Send orders (one, or a bracket whose last member transmits) in one hop onto the IB loop.

        Each spec must already be journaled (:meth:`journal_intent`).
        """
        self._loop.call_soon_threadsafe(self._place, contract, specs)

    def journal_intent(self, spec: OrderSpec, symbol: str) -> bool:
        """Record an order before it is sent; False if the orderRef was journaled before."""
        return self.journal.record_intent(OrderIntent(
            order_ref=spec.orderRef, account=self.account or "", symbol=symbol, action=spec.action,
            quantity=spec.totalQuantity, order_type=spec.orderType, limit_price=spec.lmtPrice,
            aux_price=spec.auxPrice, tif=spec.tif, parent_ref=spec.parentRef, oca_group=spec.ocaGroup or None))

    def _place(self, contract: Any, specs: list[OrderSpec]) -> None:
        ids: dict[str, int] = {}
        for spec in specs:
            order_id = self.ib.client.getReqId()
            ids[spec.orderRef] = order_id
            parent_id = ids.get(spec.parentRef, 0) if spec.parentRef else 0
            if spec.parentRef and not parent_id:
                parent_id = self._order_id_of(spec.parentRef)
            order = to_ib_order(self.lib, spec, order_id, parent_id, self.account or "")
            self._ref_by_order_id[order_id] = spec.orderRef
            self.journal.record_sent(spec.orderRef, order_id)
            self.ib.placeOrder(contract, order)
            if self.trace is not None:
                self.trace.append(("order", spec.orderRef, time.perf_counter()))

    def _order_id_of(self, order_ref: str) -> int:
        for oid, ref in self._ref_by_order_id.items():
            if ref == order_ref:
                return oid
        return 0

    def modify_prices(self, spec: OrderSpec) -> None:
        """Change a working order's limit/stop price in place (IB: the same orderId sent again)."""
        self.journal.record_prices(spec.orderRef, spec.lmtPrice, spec.auxPrice)
        self._loop.call_soon_threadsafe(self._modify_prices, spec)

    def _modify_prices(self, spec: OrderSpec) -> None:
        for trade in self.ib.openTrades():
            if trade.order.orderRef == spec.orderRef:
                if spec.lmtPrice is not None:
                    trade.order.lmtPrice = spec.lmtPrice
                if spec.auxPrice is not None:
                    trade.order.auxPrice = spec.auxPrice
                self.ib.placeOrder(trade.contract, trade.order)
                return
        self.log.bind(order_ref=spec.orderRef).warning("price change: the order is no longer open at the gateway")

    def cancel(self, order_ref: str) -> None:
        self._loop.call_soon_threadsafe(self._cancel, order_ref)

    def _cancel(self, order_ref: str) -> None:
        for trade in self.ib.openTrades():
            if trade.order.orderRef == order_ref:
                self.ib.cancelOrder(trade.order)
                return
        self.log.bind(order_ref=order_ref).info("cancel: order is no longer open at the gateway")

    async def min_tick(self, contract: Any) -> float | None:
        """The contract's minimum price increment from its contract details (None if not reported)."""
        details = await self.ib.reqContractDetailsAsync(contract)
        ticks = [float(d.minTick) for d in details or () if getattr(d, "minTick", 0)]
        return ticks[0] if ticks else None

    def place_market(self, contract: Any, spec: OrderSpec, symbol: str) -> None:
        """Journal and send one order that no strategy owns (flattening)."""
        self.journal_intent(spec, symbol)
        self.place(contract, [spec])

    # -- gateway events (IB thread) ------------------------------------------
    def _status_message(self, trade) -> events.OrderStatus:
        s = trade.orderStatus
        code, message = 0, ""
        if trade.log and trade.log[-1].errorCode and trade.log[-1].status == s.status:
            code, message = trade.log[-1].errorCode, trade.log[-1].message
        return events.OrderStatus(trade.order.orderRef or "", trade.order.orderId, trade.order.permId or s.permId,
                                  compat.order_status(s.status) or "", float(s.filled), float(s.remaining),
                                  float(s.avgFillPrice or 0.0), code, message)

    def _onOrderStatus(self, trade) -> None:
        if not (trade.order.orderRef or "").startswith(self.cfg.order_ref_prefix + ":"):
            return
        message = self._status_message(trade)
        if not message.status:
            return
        self._ref_by_order_id.setdefault(trade.order.orderId, message.orderRef)
        self._journal_status(message)
        self._emit(message)

    def _journal_status(self, message: events.OrderStatus) -> None:
        if self.journal is None or message.errorCode in events.IGNORED_CANCEL_ERRORS:
            return
        text = message.message or None
        if message.errorCode and message.errorCode not in (202, 10147):
            text = f"error {message.errorCode}: {message.message}"
        self.journal.record_status(message.orderRef, message.status, message.filled, message.remaining,
                                   message.permId, message.avgFillPrice, text)

    def _onOrderError(self, reqId: int, errorCode: int, errorString: str) -> None:
        """An error about one of this bot's orders (called by the store's error handler).

        ib_insync takes 110 (price off the tick) as a warning and leaves a refused new order in
        PendingSubmit forever; the gateway never acknowledged it, so it is reported as Cancelled
        with the error, as ib_async does.
        """
        ref = self._ref_by_order_id.get(reqId)
        if ref is None or errorCode not in REFUSED_NEW_ORDER:
            return
        trade = next((t for t in self.ib.trades() if t.order.orderId == reqId), None)
        status = trade.orderStatus.status if trade is not None else ""
        if status not in ("PendingSubmit", "ApiPending", ""):
            # Acknowledged: a refused modification leaves the order working at its earlier prices.
            if status in ("PreSubmitted", "Submitted", "ValidationError") and self.journal is not None:
                self.journal.record_refused_modification(ref, errorCode, errorString)
                self.log.bind(order_ref=ref).error(f"modification refused by the gateway ({errorCode} {errorString});"
                                                   f" the order works on at its earlier prices")
            return
        message = events.OrderStatus(ref, reqId, 0, "Cancelled", 0.0, 0.0, 0.0, errorCode, errorString)
        self._journal_status(message)
        self._emit(message)

    def _execution(self, fill, replayed: bool = False) -> events.Execution:
        e = fill.execution
        return events.Execution(e.orderRef or "", e.execId, e.time.astimezone(UTC), fill.contract.symbol,
                                e.side, float(e.shares), float(e.price), replayed)

    def _onExecDetails(self, trade, fill) -> None:
        message = self._execution(fill)
        if not message.orderRef.startswith(self.cfg.order_ref_prefix + ":"):
            return
        if self.journal is not None:
            self.journal.record_fill(message.execId, message.orderRef, message.time, message.symbol,
                                     message.side, message.shares, message.price)
        self._emit(message)

    def _onCommissionReport(self, trade, fill, report) -> None:
        if self.journal is not None:
            self.journal.record_commission(report.execId, float(report.commission))
        self._emit(events.Commission(report.execId, float(report.commission)))

    def _onPosition(self, position) -> None:
        if position.account != self.account:
            return
        if self.journal is not None:
            self.journal.record_position(position.contract.symbol, float(position.position),
                                         float(position.avgCost))
        self._emit(events.Position(position.contract.symbol, float(position.position), float(position.avgCost)))
