"""What the gateway answers to each client request (one method per request type).

Contract: ``RequestHandlers.handle(session, fields)`` answers one decoded
message on the session's socket, reading and changing the server's state.
Unknown contracts get error 200, unsupported requests a warning in the log
(a real gateway ignores what it does not know too). Requests the simulator
cannot serve as asked (combo contracts, what-if orders) get error 321.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from loguru import logger

from . import history, layouts, requests as rq, statements
from .faults import standard_message
from .requests import FieldReader, UnsupportedRequest

from .gateway_state import GatewayState

if TYPE_CHECKING:
    from .session import ClientSession

NO_SECURITY = "No security definition has been found for the request"


class RequestHandlers:
    def __init__(self, server: GatewayState):
        self.server = server
        self._table = {
            rq.REQ_IDS: self.req_ids, rq.REQ_CURRENT_TIME: self.current_time,
            rq.REQ_MANAGED_ACCTS: self.managed_accounts, rq.REQ_POSITIONS: self.positions,
            rq.CANCEL_POSITIONS: self.cancel_positions, rq.REQ_OPEN_ORDERS: self.open_orders,
            rq.REQ_ALL_OPEN_ORDERS: self.all_open_orders, rq.REQ_COMPLETED_ORDERS: self.completed_orders,
            rq.REQ_ACCT_DATA: self.account_updates, rq.REQ_ACCOUNT_UPDATES_MULTI: self.account_updates_multi,
            rq.CANCEL_ACCOUNT_UPDATES_MULTI: self.cancel_account_updates_multi,
            rq.REQ_POSITIONS_MULTI: self.positions_multi, rq.REQ_ACCOUNT_SUMMARY: self.account_summary,
            rq.REQ_EXECUTIONS: self.executions, rq.REQ_CONTRACT_DATA: self.contract_details,
            rq.REQ_HISTORICAL_DATA: self.historical_data, rq.REQ_REAL_TIME_BARS: self.realtime_bars,
            rq.CANCEL_REAL_TIME_BARS: self.cancel_realtime_bars, rq.PLACE_ORDER: self.place_order,
            rq.CANCEL_ORDER: self.cancel_order, rq.REQ_GLOBAL_CANCEL: self.global_cancel,
            rq.REQ_HEAD_TIMESTAMP: self.head_timestamp, rq.REQ_MKT_DATA: self.market_data,
            rq.REQ_USER_INFO: self.user_info,
        }
        self._ignored = {rq.REQ_AUTO_OPEN_ORDERS, rq.REQ_MARKET_DATA_TYPE, rq.CANCEL_HISTORICAL_DATA,
                         rq.CANCEL_MKT_DATA, rq.CANCEL_ACCOUNT_SUMMARY, rq.CANCEL_POSITIONS_MULTI,
                         rq.CANCEL_HEAD_TIMESTAMP}

    def handle(self, session: "ClientSession", fields: list[str]) -> None:
        try:
            msg_id = int(fields[0])
        except ValueError:
            logger.warning(f"{session.label}: unreadable message id {fields[0]!r}")
            return
        handler = self._table.get(msg_id)
        if handler is None:
            if msg_id not in self._ignored:
                logger.warning(f"{session.label}: request {msg_id} is not simulated; ignored")
            return
        try:
            handler(session, fields)
        except (ValueError, IndexError) as exc:
            logger.warning(f"{session.label}: malformed request {msg_id}: {exc!r}")

    # -- ids, time, accounts --------------------------------------------------------------

    def req_ids(self, s, fields):
        s.send(layouts.next_valid_id(self.server.exchange.next_order_id(s.client_id)))

    def current_time(self, s, fields):
        s.send(layouts.current_time(int(self.server.clock())))

    def managed_accounts(self, s, fields):
        s.send(layouts.managed_accounts([self.server.account.account_id]))

    def user_info(self, s, fields):
        s.send(layouts.user_info(int(fields[1])))

    def positions(self, s, fields):
        s.positions = True
        s.send_all(statements.positions(self.server.account, self.server.contracts))
        s.send(layouts.position_end())

    def cancel_positions(self, s, fields):
        s.positions = False

    def positions_multi(self, s, fields):
        req_id = int(fields[2])
        account = self.server.account
        for symbol, pos in account.positions.items():
            if pos.quantity:
                s.send(layouts.position_multi(req_id, account.account_id,
                                              self.server.contracts.by_symbol(symbol), pos.quantity, pos.avg_cost))
        s.send(layouts.position_multi_end(req_id))

    def account_updates(self, s, fields):
        subscribe = FieldReader(fields, start=2).flag()
        s.account_updates = subscribe
        if subscribe:
            s.send_all(self.server.account_statement())
            s.send(layouts.account_download_end(self.server.account.account_id))

    def account_updates_multi(self, s, fields):
        req_id = int(fields[2])
        s.account_multi.add(req_id)
        s.send_all(self.server.account_multi_statement(req_id))
        s.send(layouts.account_update_multi_end(req_id))

    def cancel_account_updates_multi(self, s, fields):
        s.account_multi.discard(int(fields[2]))

    def account_summary(self, s, fields):
        req_id, tags = int(fields[2]), fields[4] if len(fields) > 4 else ""
        wanted = {t.strip() for t in tags.split(",") if t.strip()}
        account = self.server.account
        for key, value, currency in statements.account_values(account, self.server.prices()):
            if not wanted or key in wanted or "$LEDGER" in wanted:
                s.send(layouts.account_summary(req_id, account.account_id, key, value, currency or "USD"))
        s.send(layouts.account_summary_end(req_id))

    # -- orders and executions ------------------------------------------------------------

    def open_orders(self, s, fields):
        s.send_all(statements.open_orders(self.server.exchange, s.client_id))
        s.send(layouts.open_order_end())

    def all_open_orders(self, s, fields):
        s.send_all(statements.open_orders(self.server.exchange, None))
        s.send(layouts.open_order_end())

    def completed_orders(self, s, fields):
        since = self.server.options.executions_since(self.server.clock())
        s.send_all(statements.completed_orders(self.server.exchange, since))
        s.send(layouts.completed_orders_end())

    def executions(self, s, fields):
        r = FieldReader(fields, start=2)
        req_id, client_id = r.integer(), r.integer()
        r.skip(2)                                        # acctCode, time
        symbol = r.text()
        r.skip(2)                                        # secType, exchange
        side = r.text()
        since = self.server.options.executions_since(self.server.clock())
        s.send_all(statements.executions(self.server.exchange, req_id, client_id, symbol, side, since))
        s.send(layouts.executions_end(req_id))

    def place_order(self, s, fields):
        try:
            ticket = rq.read_place_order(fields)
        except UnsupportedRequest as exc:
            s.send(layouts.error(int(fields[1]), 321, f"Error validating request:-'bO' : cause - {exc}"))
            return
        self.server.exchange.place(s.client_id, ticket)

    def cancel_order(self, s, fields):
        self.server.exchange.cancel(s.client_id, int(fields[2]))

    def global_cancel(self, s, fields):
        self.server.exchange.cancel_all()

    # -- instruments and data -------------------------------------------------------------

    def contract_details(self, s, fields):
        req_id, query = rq.read_contract_request(fields)
        listing = self.server.contracts.match(query.con_id, query.symbol, query.sec_type,
                                              query.currency, query.exchange)
        if listing is None:
            s.send(layouts.error(req_id, 200, NO_SECURITY))
            return
        hours = self._trading_hours()
        s.send(layouts.contract_details(req_id, listing, hours, query.exchange or listing.exchange))
        s.send(layouts.contract_details_end(req_id))

    def historical_data(self, s, fields):
        try:
            q = rq.read_historical_request(fields)
        except UnsupportedRequest as exc:
            s.send(layouts.error(int(fields[1]), 321, f"Error validating request:-'bP' : cause - {exc}"))
            return
        c = q.contract
        listing = self.server.contracts.match(c.con_id, c.symbol, c.sec_type, c.currency, c.exchange)
        if listing is None:
            s.send(layouts.error(q.req_id, 200, NO_SECURITY))
            return
        injected = self.server.faults.next_pacing_fault()
        if injected:
            s.send(layouts.error(q.req_id, injected, standard_message(injected)))
            return
        try:
            size = history.parse_bar_size(q.bar_size)
            count, unit = history.parse_duration(q.duration)
            now = self.server.now()
            end = history.parse_end(q.end, now)
        except history.HistoryError as exc:
            s.send(layouts.error(q.req_id, exc.code, str(exc)))
            return
        request_key = (listing.con_id, q.end, q.duration, q.bar_size, q.what_to_show, q.use_rth)
        self.server.history_log.append((*request_key, now))
        violation = self.server.pacing.check(request_key, (listing.con_id, q.what_to_show))
        if violation:
            s.send(layouts.error(q.req_id, *violation))
            return
        series = self.server.series[listing.symbol]
        calendar = self.server.calendar
        start = history.window_start(end, count, unit, calendar)
        try:
            selected = history.select_bars(series, end, start, q.use_rth, calendar,
                                           whole_sessions=isinstance(size, str))
            bars, dated = history.aggregate(series, selected, size)
        except history.HistoryError as exc:
            s.send(layouts.error(q.req_id, exc.code, str(exc)))
            return
        if bars.empty:
            s.send(layouts.error(q.req_id, 162, "Historical Market Data Service error message:"
                                                f"HMDS query returned no data: {listing.symbol}@SMART Trades"))
            return
        rows = history.bar_rows(bars, dated, q.format_date)
        s.send(layouts.historical_data(q.req_id, layouts.ib_time(start), layouts.ib_time(end), rows))

    def head_timestamp(self, s, fields):
        r = FieldReader(fields)
        req_id, c = r.integer(), r.contract()
        r.skip(3)                                        # includeExpired, useRTH, whatToShow
        fmt = r.integer(1)
        listing = self.server.contracts.match(c.con_id, c.symbol, c.sec_type, c.currency, c.exchange)
        if listing is None:
            s.send(layouts.error(req_id, 200, NO_SECURITY))
            return
        s.send(layouts.head_timestamp(req_id, history.head_timestamp(self.server.series[listing.symbol], fmt)))

    def realtime_bars(self, s, fields):
        req_id, c, bar_size, what, _rth = rq.read_realtime_request(fields)
        listing = self.server.contracts.match(c.con_id, c.symbol, c.sec_type, c.currency, c.exchange)
        if listing is None:
            s.send(layouts.error(req_id, 200, NO_SECURITY))
            return
        if bar_size != 5:
            s.send(layouts.error(req_id, 321, "Error validating request:-'bK' : cause - "
                                              "Invalid bar size: real-time bars are 5 seconds"))
            return
        s.realtime[req_id] = listing.symbol

    def cancel_realtime_bars(self, s, fields):
        s.realtime.pop(int(fields[2]), None)

    def market_data(self, s, fields):
        """A snapshot-like answer: last and close price ticks from the replay (no streaming)."""
        r = FieldReader(fields, start=2)
        req_id, c = r.integer(), r.contract()
        listing = self.server.contracts.match(c.con_id, c.symbol, c.sec_type, c.currency, c.exchange)
        if listing is None:
            s.send(layouts.error(req_id, 200, NO_SECURITY))
            return
        price = self.server.prices().get(listing.symbol)
        if price is not None:
            for tick_type in (4, 9):                     # LAST, CLOSE
                s.send([1, 6, req_id, tick_type, price, 0, 0])
        s.send([57, 1, req_id])                          # tickSnapshotEnd

    def _trading_hours(self) -> str:
        """IB's 'YYYYMMDD:HHMM-YYYYMMDD:HHMM;...' for the coming week (CLOSED on holidays)."""
        today = self.server.now().date()
        calendar = self.server.calendar
        parts = []
        for offset in range(7):
            day = today + dt.timedelta(days=offset)
            stamp = day.strftime("%Y%m%d")
            if calendar.is_session(day):
                opened, closed = calendar.bounds(day)
                parts.append(f"{stamp}:{opened:%H%M}-{stamp}:{closed:%H%M}")
            else:
                parts.append(f"{stamp}:CLOSED")
        return ";".join(parts)
