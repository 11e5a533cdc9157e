"""Field layouts of the messages the gateway sends, at server version 176.

Each function returns the field list of one message (first field: the
message id). The layouts are those of the TWS API at version 176, checked
against both ib_insync's and ib_async's decoders (tests/sim/test_layouts.py
decodes every one of them with both). Fields the simulator has no value for
are sent empty, which both decoders read as "unset".
"""
from __future__ import annotations

import datetime as dt

from .account import Execution
from .contracts import Listing
from .orders import SimOrder
from .wire import UNSET_DOUBLE

SERVER_VERSION = 176

# Outgoing message ids.
ORDER_STATUS, ERR_MSG, OPEN_ORDER, ACCT_VALUE, PORTFOLIO_VALUE, ACCT_UPDATE_TIME = 3, 4, 5, 6, 7, 8
NEXT_VALID_ID, CONTRACT_DATA, EXECUTION_DATA, MANAGED_ACCTS, HISTORICAL_DATA = 9, 10, 11, 15, 17
CURRENT_TIME, REAL_TIME_BARS, CONTRACT_DATA_END, OPEN_ORDER_END = 49, 50, 52, 53
ACCT_DOWNLOAD_END, EXECUTION_DATA_END, COMMISSION_REPORT, POSITION_DATA, POSITION_END = 54, 55, 59, 61, 62
ACCOUNT_SUMMARY, ACCOUNT_SUMMARY_END, POSITION_MULTI, POSITION_MULTI_END = 63, 64, 71, 72
ACCOUNT_UPDATE_MULTI, ACCOUNT_UPDATE_MULTI_END, HEAD_TIMESTAMP = 73, 74, 88
COMPLETED_ORDER, COMPLETED_ORDERS_END, USER_INFO = 101, 102, 107

IB_TIMEZONE = "US/Eastern"
_ORDER_TYPES = "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,AVGCOST,BASKET,DAY,GTC,IOC,LIT,LMT,LOC,MIT,MKT,MOC,OCA,OPG,STP,STPLMT,TRAIL,TRAILLIMIT,WHATIF"


def ib_time(moment: dt.datetime) -> str:
    """IB's 'YYYYMMDD HH:MM:SS US/Eastern' (the form newer gateways send)."""
    return moment.strftime("%Y%m%d %H:%M:%S") + " " + IB_TIMEZONE


def _contract(listing: Listing, exchange: str | None = None) -> list:
    """conId .. tradingClass, with ``exchange`` in the exchange slot."""
    return [listing.con_id, listing.symbol, listing.sec_type, "", 0.0, "", "",
            listing.exchange if exchange is None else exchange,
            listing.currency, listing.symbol, listing.symbol]


def _price(value: float | None) -> float | None:
    return None if value is None else value


def next_valid_id(order_id: int) -> list:
    return [NEXT_VALID_ID, 1, order_id]


def managed_accounts(accounts: list[str]) -> list:
    return [MANAGED_ACCTS, 1, ",".join(accounts)]


def error(req_id: int, code: int, message: str) -> list:
    return [ERR_MSG, 2, req_id, code, message, ""]


def current_time(epoch: int) -> list:
    return [CURRENT_TIME, 1, epoch]


def contract_details(req_id: int, listing: Listing, trading_hours: str, exchange: str) -> list:
    n_exchanges = len(listing.valid_exchanges.split(","))
    return [
        CONTRACT_DATA, req_id, listing.symbol, listing.sec_type, "", 0.0, "", exchange,
        listing.currency, listing.symbol, listing.symbol, listing.symbol, listing.con_id,
        listing.min_tick, "", _ORDER_TYPES, listing.valid_exchanges, 1, 0, listing.long_name,
        listing.primary_exchange, "", "", "", "", IB_TIMEZONE, trading_hours, trading_hours,
        "", "", 0,                                          # evRule, evMultiplier, no secIds
        1, "", "", ",".join(["26"] * n_exchanges), "", "ETF",  # aggGroup .. stockType
        "0.0001", "0.0001", "100",                          # minSize, sizeIncrement, suggested
    ]


def contract_details_end(req_id: int) -> list:
    return [CONTRACT_DATA_END, 1, req_id]


def order_status(order: SimOrder) -> list:
    remaining = 0.0 if order.status == "Inactive" else order.remaining   # IB reports a refused order so
    return [ORDER_STATUS, order.order_id, order.status, order.filled, remaining,
            order.avg_fill_price, order.perm_id, order.ticket.parent_id, order.last_fill_price,
            order.client_id, "", 0.0]


def open_order(order: SimOrder, listing: Listing, account: str) -> list:
    t = order.ticket
    return [
        OPEN_ORDER, t.order_id, *_contract(listing, t.exchange or listing.exchange),
        t.action, t.quantity, t.order_type, _price(t.lmt_price), _price(t.aux_price), t.tif,
        t.oca_group, account, "", 0, t.order_ref, order.client_id, order.perm_id,
        t.outside_rth, False, 0.0, "", "",                  # hidden .. sharesAllocation
        "", "", "", "", "", "", "", None, "", 0, "", -1,     # faGroup .. exemptCode
        0, None, None, None, None, None, 0, False, False, False, None,  # auctionStrategy .. minQty
        t.oca_type, False, False, None, t.parent_id, 0, None, 0, "", None,  # .. deltaNeutralAuxPrice
        False, 0, _price(t.trail_stop_price), _price(t.trailing_percent), None, None, "",
        0, 0, 0,                                            # combo legs, order legs, smart params
        None, None, None, "",                               # scale sizes, increment, hedgeType
        False, "", "IB", False, False, "",                  # optOutSmartRouting .. algoStrategy
        False, t.what_if, order.status,
        "", "", "", "", "", "", "", "", "",                 # margin before/change/after
        None, None, None, "", "",                           # commission .. warningText
        False, False, 0,                                    # randomize size/price, conditions
        "", None, _price(t.trail_stop_price), None, None, None, None, 0,  # adjusted order params
        "", "", "", None, False, False, False, False,       # soft dollar tier .. usePriceMgmtAlgo
        None, None, False,                                  # duration, postToAts, autoCancelParent
        None, None, None, None, None,                       # peg best / peg mid attributes
    ]


def open_order_end() -> list:
    return [OPEN_ORDER_END, 1]


def completed_order(order: SimOrder, listing: Listing, account: str, completed: dt.datetime) -> list:
    t = order.ticket
    return [
        COMPLETED_ORDER, *_contract(listing, t.exchange or listing.exchange),
        t.action, t.quantity, t.order_type, _price(t.lmt_price), _price(t.aux_price), t.tif,
        t.oca_group, account, "", 0, t.order_ref, order.perm_id, t.outside_rth, False, 0.0, "",
        "", "", "", "", "", "", "", None, "", 0, "", -1,     # faGroup .. exemptCode
        None, None, None, None, None, 0, False, False, None,  # startingPrice .. minQty
        t.oca_type, 0, None, 0, "", None,                   # ocaType .. deltaNeutralAuxPrice
        False, 0, _price(t.trail_stop_price), _price(t.trailing_percent), "",
        0, 0, 0, None, None, None, "",                      # legs, params, scale, hedgeType
        "", "IB", False, False, "",                         # clearingAccount .. algoStrategy
        False, order.status, False, False, 0,               # solicited, status, randomize, conditions
        _price(t.trail_stop_price), None, None, False, False, "", order.filled, 0, False,
        "", False, False, 0, ib_time(completed), order.completed_status or order.status,
        None, None, None, None, None,
    ]


def completed_orders_end() -> list:
    return [COMPLETED_ORDERS_END]


def execution(req_id: int, ex: Execution, listing: Listing, when: dt.datetime) -> list:
    return [
        EXECUTION_DATA, req_id, ex.order_id, *_contract(listing, listing.primary_exchange),
        ex.exec_id, ib_time(when), ex.account, listing.primary_exchange, ex.side, ex.shares,
        ex.price, ex.perm_id, ex.client_id, 0, ex.cum_qty, ex.avg_price, ex.order_ref,
        "", None, "", 2,                                    # evRule .. lastLiquidity (removed)
    ]


def executions_end(req_id: int) -> list:
    return [EXECUTION_DATA_END, 1, req_id]


def commission_report(ex: Execution) -> list:
    realized = UNSET_DOUBLE if ex.realized_pnl is None else ex.realized_pnl
    return [COMMISSION_REPORT, 1, ex.exec_id, ex.commission, "USD", realized, UNSET_DOUBLE, ""]


def position(account: str, listing: Listing, quantity: float, avg_cost: float) -> list:
    return [POSITION_DATA, 3, account, *_contract(listing, listing.primary_exchange), quantity, avg_cost]


def position_end() -> list:
    return [POSITION_END, 1]


def position_multi(req_id: int, account: str, listing: Listing, quantity: float, avg_cost: float) -> list:
    return [POSITION_MULTI, 1, req_id, account, *_contract(listing, listing.primary_exchange),
            quantity, avg_cost, ""]


def position_multi_end(req_id: int) -> list:
    return [POSITION_MULTI_END, 1, req_id]


def account_value(key: str, value: str, currency: str, account: str) -> list:
    return [ACCT_VALUE, 2, key, value, currency, account]


def portfolio_value(listing: Listing, quantity: float, price: float, avg_cost: float,
                    realized: float, account: str) -> list:
    fields = _contract(listing)
    fields[7] = listing.primary_exchange                  # portfolio carries primaryExchange here
    return [PORTFOLIO_VALUE, 8, *fields, quantity, price, quantity * price, avg_cost,
            quantity * (price - avg_cost), realized, account]


def account_time(moment: dt.datetime) -> list:
    return [ACCT_UPDATE_TIME, 1, moment.strftime("%H:%M")]


def account_download_end(account: str) -> list:
    return [ACCT_DOWNLOAD_END, 1, account]


def account_update_multi(req_id: int, account: str, key: str, value: str, currency: str) -> list:
    return [ACCOUNT_UPDATE_MULTI, 1, req_id, account, "", key, value, currency]


def account_update_multi_end(req_id: int) -> list:
    return [ACCOUNT_UPDATE_MULTI_END, 1, req_id]


def account_summary(req_id: int, account: str, tag: str, value: str, currency: str) -> list:
    return [ACCOUNT_SUMMARY, 1, req_id, account, tag, value, currency]


def account_summary_end(req_id: int) -> list:
    return [ACCOUNT_SUMMARY_END, 1, req_id]


def historical_data(req_id: int, start: str, end: str, rows: list[tuple]) -> list:
    """``rows``: (date, open, high, low, close, volume, wap, count) per bar."""
    fields: list = [HISTORICAL_DATA, req_id, start, end, len(rows)]
    for row in rows:
        fields.extend(row)
    return fields


def realtime_bar(req_id: int, epoch: int, o: float, h: float, l: float, c: float,
                 volume: float, wap: float, count: int) -> list:
    return [REAL_TIME_BARS, 3, req_id, epoch, o, h, l, c, volume, wap, count]


def head_timestamp(req_id: int, stamp: str) -> list:
    return [HEAD_TIMESTAMP, req_id, stamp]


def user_info(req_id: int) -> list:
    return [USER_INFO, req_id, ""]
