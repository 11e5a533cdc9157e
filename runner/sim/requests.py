"""Decoding of the requests clients send, at server version 176.

Contract: ``FieldReader`` walks one message's fields; empty numeric fields
read as their default (the clients send unset values as empty fields).
``read_place_order`` decodes placeOrder up to ``whatIf`` (everything the
simulator acts on) and raises ``UnsupportedRequest`` for combo (BAG) orders.
"""
from __future__ import annotations

from dataclasses import dataclass

from .orders import OrderTicket
from .wire import UNSET_DOUBLE, UNSET_INTEGER

# Incoming message ids.
REQ_MKT_DATA, CANCEL_MKT_DATA, PLACE_ORDER, CANCEL_ORDER, REQ_OPEN_ORDERS = 1, 2, 3, 4, 5
REQ_ACCT_DATA, REQ_EXECUTIONS, REQ_IDS, REQ_CONTRACT_DATA = 6, 7, 8, 9
REQ_AUTO_OPEN_ORDERS, REQ_ALL_OPEN_ORDERS, REQ_MANAGED_ACCTS = 15, 16, 17
REQ_HISTORICAL_DATA, CANCEL_HISTORICAL_DATA, REQ_CURRENT_TIME = 20, 25, 49
REQ_REAL_TIME_BARS, CANCEL_REAL_TIME_BARS, REQ_GLOBAL_CANCEL, REQ_MARKET_DATA_TYPE = 50, 51, 58, 59
REQ_POSITIONS, REQ_ACCOUNT_SUMMARY, CANCEL_ACCOUNT_SUMMARY, CANCEL_POSITIONS = 61, 62, 63, 64
START_API, REQ_POSITIONS_MULTI, CANCEL_POSITIONS_MULTI = 71, 74, 75
REQ_ACCOUNT_UPDATES_MULTI, CANCEL_ACCOUNT_UPDATES_MULTI = 76, 77
REQ_HEAD_TIMESTAMP, CANCEL_HEAD_TIMESTAMP, REQ_COMPLETED_ORDERS, REQ_USER_INFO = 87, 90, 99, 104


class UnsupportedRequest(Exception):
    """A well-formed request for something the simulator does not offer."""


@dataclass(frozen=True)
class ContractQuery:
    con_id: int
    symbol: str
    sec_type: str
    exchange: str
    primary_exchange: str
    currency: str


@dataclass(frozen=True)
class HistoricalQuery:
    req_id: int
    contract: ContractQuery
    end: str
    bar_size: str
    duration: str
    use_rth: bool
    what_to_show: str
    format_date: int
    keep_up_to_date: bool


class FieldReader:
    def __init__(self, fields: list[str], start: int = 1):
        self._fields = fields
        self._pos = start

    def text(self) -> str:
        value = self._fields[self._pos] if self._pos < len(self._fields) else ""
        self._pos += 1
        return value

    def integer(self, default: int = 0) -> int:
        raw = self.text()
        if not raw:
            return default
        value = int(float(raw))
        return default if value == UNSET_INTEGER else value

    def number(self) -> float | None:
        raw = self.text()
        if not raw:
            return None
        value = float(raw)
        return None if value == UNSET_DOUBLE else value

    def flag(self) -> bool:
        return self.integer() != 0

    def skip(self, count: int = 1) -> None:
        self._pos += count

    def contract(self) -> ContractQuery:
        """The 12 contract fields clients send: conId .. tradingClass."""
        con_id = self.integer()
        symbol, sec_type = self.text(), self.text()
        self.skip(4)                                     # expiry, strike, right, multiplier
        exchange, primary, currency = self.text(), self.text(), self.text()
        self.skip(2)                                     # localSymbol, tradingClass
        return ContractQuery(con_id, symbol, sec_type, exchange, primary, currency)


def read_contract_request(fields: list[str]) -> tuple[int, ContractQuery]:
    reader = FieldReader(fields, start=2)                # after id and version
    req_id = reader.integer()
    return req_id, reader.contract()


def read_historical_request(fields: list[str]) -> HistoricalQuery:
    reader = FieldReader(fields)
    req_id = reader.integer()
    contract = reader.contract()
    reader.skip()                                        # includeExpired
    end, bar_size, duration = reader.text(), reader.text(), reader.text()
    use_rth = reader.flag()
    what, fmt = reader.text(), reader.integer(1)
    if contract.sec_type == "BAG":
        raise UnsupportedRequest("combo contracts")
    keep = reader.flag()
    return HistoricalQuery(req_id, contract, end, bar_size, duration, use_rth, what, fmt, keep)


def read_realtime_request(fields: list[str]) -> tuple[int, ContractQuery, int, str, bool]:
    reader = FieldReader(fields, start=2)
    req_id = reader.integer()
    contract = reader.contract()
    bar_size = reader.integer(5)
    what = reader.text()
    use_rth = reader.flag()
    return req_id, contract, bar_size, what, use_rth


def read_place_order(fields: list[str]) -> OrderTicket:
    r = FieldReader(fields)
    order_id = r.integer()
    c = r.contract()
    if c.sec_type == "BAG":
        raise UnsupportedRequest("combo (BAG) orders")
    r.skip(2)                                            # secIdType, secId
    action, quantity, order_type = r.text(), r.number() or 0.0, r.text().upper()
    lmt, aux, tif, oca_group, account = r.number(), r.number(), r.text() or "DAY", r.text(), r.text()
    r.skip(2)                                            # openClose, origin
    order_ref = r.text()
    transmit = r.text() != "0"
    parent_id = r.integer()
    r.skip(4)                                            # blockOrder, sweepToFill, displaySize, triggerMethod
    outside_rth = r.flag()
    r.skip(1)                                            # hidden
    r.skip(1 + 1 + 1 + 1 + 4 + 1)                        # sharesAllocation .. faProfile, modelCode
    r.skip(3)                                            # shortSaleSlot, designatedLocation, exemptCode
    oca_type = r.integer()
    r.skip(17)                                           # rule80A .. volatilityType
    if r.text():                                         # deltaNeutralOrderType
        r.skip(1 + 8)
    else:
        r.skip(1)
    r.skip(2)                                            # continuousUpdate, referencePriceType
    trail_stop, trailing_pct = r.number(), r.number()
    r.skip(2)                                            # scale init/subs level sizes
    increment = r.number()
    if increment is not None and 0 < increment:
        r.skip(7)
    r.skip(3)                                            # scaleTable, activeStart/StopTime
    if r.text():                                         # hedgeType
        r.skip(1)
    r.skip(4)                                            # optOutSmartRouting .. notHeld
    if r.flag():                                         # delta-neutral contract
        r.skip(3)
    if r.text():                                         # algoStrategy
        r.skip(2 * r.integer())
    r.skip(1)                                            # algoId
    what_if = r.flag()
    return OrderTicket(
        order_id=order_id, con_id=c.con_id, symbol=c.symbol, sec_type=c.sec_type,
        exchange=c.exchange, currency=c.currency, action=action.upper(), quantity=quantity,
        order_type=order_type, lmt_price=lmt, aux_price=aux, tif=tif.upper(),
        oca_group=oca_group, oca_type=oca_type, account=account, order_ref=order_ref,
        transmit=transmit, parent_id=parent_id, outside_rth=outside_rth,
        trail_stop_price=trail_stop, trailing_percent=trailing_pct, what_if=what_if)
