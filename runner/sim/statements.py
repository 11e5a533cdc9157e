"""Batches of messages that describe the account: what a gateway sends on request and on change.

Contract: pure functions from the account / exchange state to lists of
message field lists (see layouts.py); the caller sends them in order.
Money is reported in USD with two decimals, like IB's account values.
"""
from __future__ import annotations

import datetime as dt

from . import layouts
from .account import Account
from .contracts import ContractBook
from .dataset import to_new_york
from .exchange import SimExchange
from .orders import SimOrder

_ACCOUNT_TEXT = {"AccountType": "INDIVIDUAL", "AccountReady": "true"}


def account_values(account: Account, prices: dict[str, float]) -> list[tuple[str, str, str]]:
    """(key, value, currency) triples, in the order IB sends them."""
    rows = [("AccountCode", account.account_id, ""), ("Currency", "USD", "USD")]
    rows += [(key, value, "") for key, value in _ACCOUNT_TEXT.items()]
    rows += [(key, f"{value:.2f}", "USD") for key, value in account.summary(prices).items()]
    rows += [("CashBalance", f"{account.cash:.2f}", "BASE"), ("NetLiquidationByCurrency",
             f"{account.cash + account.market_value(prices):.2f}", "BASE")]
    return rows


def account_update(account: Account, contracts: ContractBook, prices: dict[str, float],
                   now: dt.datetime, symbols: list[str] | None = None) -> list[list]:
    """updateAccountValue for every key, updatePortfolio per position, updateAccountTime."""
    out = [layouts.account_value(k, v, c, account.account_id) for k, v, c in account_values(account, prices)]
    out += portfolio(account, contracts, prices, symbols)
    out.append(layouts.account_time(now))
    return out


def portfolio(account: Account, contracts: ContractBook, prices: dict[str, float],
              symbols: list[str] | None = None) -> list[list]:
    out = []
    for symbol, pos in account.positions.items():
        if symbols is not None and symbol not in symbols:
            continue
        if pos.quantity == 0 and symbols is None:
            continue
        price = prices.get(symbol, pos.avg_cost)
        out.append(layouts.portfolio_value(contracts.by_symbol(symbol), pos.quantity, price,
                                           pos.avg_cost, pos.realized_pnl, account.account_id))
    return out


def positions(account: Account, contracts: ContractBook, symbols: list[str] | None = None) -> list[list]:
    return [layouts.position(account.account_id, contracts.by_symbol(symbol), pos.quantity, pos.avg_cost)
            for symbol, pos in account.positions.items()
            if (symbols is None and pos.quantity != 0) or (symbols is not None and symbol in symbols)]


def open_orders(exchange: SimExchange, client_id: int | None) -> list[list]:
    """openOrder + orderStatus for each working order (of one client, or of all when None)."""
    out = []
    for order in exchange.working():
        if client_id is None or order.client_id == client_id:
            out += order_update(exchange, order)
    return out


def order_update(exchange: SimExchange, order: SimOrder, repeat_status: bool = False) -> list[list]:
    """openOrder + orderStatus; ``repeat_status``: the orderStatus twice, as IB Gateway sends a change."""
    listing = exchange.listing_of(order)
    status = layouts.order_status(order)
    return [layouts.open_order(order, listing, exchange.account.account_id), status] + ([status] if repeat_status else [])


def completed_orders(exchange: SimExchange, since: float | None = None) -> list[list]:
    """completedOrder for every order done at or after ``since`` (IB: the current trading day)."""
    return [layouts.completed_order(o, exchange.listing_of(o), exchange.account.account_id,
                                    to_new_york(o.completed_at or o.received_at))
            for o in exchange.orders.values()
            if o.is_done and (since is None or (o.completed_at or o.received_at) >= since)]


def executions(exchange: SimExchange, req_id: int, client_id: int = 0, symbol: str = "",
               side: str = "", since: float | None = None) -> list[list]:
    """execDetails + commissionReport for every execution the filter lets through."""
    out = []
    for ex in exchange.account.executions:
        if client_id and ex.client_id != client_id:
            continue
        if symbol and ex.symbol != symbol:
            continue
        if side and side.upper() not in (ex.side, "BUY" if ex.side == "BOT" else "SELL"):
            continue
        if since is not None and ex.time < since:
            continue
        listing = exchange.contracts.by_symbol(ex.symbol)
        out.append(layouts.execution(req_id, ex, listing, to_new_york(ex.time)))
        out.append(layouts.commission_report(ex))
    return out
