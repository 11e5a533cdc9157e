"""Records what a run did (orders, fills, closed trades, equity) from backtrader's notifications.

One ``RunLog`` is shared by the ``RunRecorder`` analyzer instances of every
strategy in the Cerebro; the same recorder serves backtests and paper runs.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import backtrader as bt
import pandas as pd

from strategies import market_calendar

NEW_YORK = "America/New_York"

ORDER_COLUMNS = ["time", "strategy", "symbol", "order_id", "side", "type", "size", "limit_price", "stop_price",
                 "status", "filled_size", "fill_price", "commission", "reason"]
TRADE_COLUMNS = ["strategy", "symbol", "direction", "entry_time", "entry_price", "exit_time", "exit_price",
                 "size", "pnl", "pnl_pct", "commission", "exit_reason", "filters"]
EQUITY_COLUMNS = ["time", "value", "cash"]

_EXECTYPE_NAMES = {bt.Order.Market: "market", bt.Order.Close: "market_on_close", bt.Order.Limit: "limit",
                   bt.Order.Stop: "stop", bt.Order.StopLimit: "stop_limit", bt.Order.StopTrail: "trailing_stop",
                   bt.Order.StopTrailLimit: "trailing_stop_limit"}

#: Final statuses reached without a fill on that event: their orders.csv row carries the order's whole filled size.
_ENDED_UNFILLED = frozenset({bt.Order.Canceled, bt.Order.Expired, bt.Order.Margin, bt.Order.Rejected})


@dataclass
class _OpenTrade:
    direction: int
    entry_time: pd.Timestamp
    entry_value: float = 0.0
    entry_size: float = 0.0
    exit_value: float = 0.0
    exit_size: float = 0.0
    commission: float = 0.0
    position: float = 0.0
    filters: str = ""        # each filter's value at the entry decision (strategies.signals.filters)


@dataclass
class RunLog:
    """Everything a run produced, as rows ready for the output files."""

    orders: list[dict] = field(default_factory=list)
    trades: list[dict] = field(default_factory=list)
    equity: dict[pd.Timestamp, tuple[float, float]] = field(default_factory=dict)
    _open: dict[tuple[str, str], _OpenTrade] = field(default_factory=dict)

    def orders_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.orders, columns=ORDER_COLUMNS)

    def trades_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.trades, columns=TRADE_COLUMNS)

    def equity_frame(self) -> pd.DataFrame:
        rows = [(t, v, c) for t, (v, c) in sorted(self.equity.items())]
        return pd.DataFrame(rows, columns=EQUITY_COLUMNS)

    # -- fills into trades -----------------------------------------------------
    def add_fill(self, strategy: str, symbol: str, when: pd.Timestamp, size: float, price: float,
                 commission: float, reason: str, filters: str = "") -> None:
        key = (strategy, symbol)
        trade = self._open.get(key)
        if trade is None:
            trade = self._open[key] = _OpenTrade(direction=1 if size > 0 else -1, entry_time=when, filters=filters)
        opening = (size > 0) == (trade.direction > 0)
        if opening:
            trade.entry_value += abs(size) * price
            trade.entry_size += abs(size)
        else:
            trade.exit_value += abs(size) * price
            trade.exit_size += abs(size)
        trade.commission += commission
        trade.position += size
        if abs(trade.position) < 1e-9:
            self.trades.append(_closed_trade_row(strategy, symbol, trade, when, reason))
            del self._open[key]


def _closed_trade_row(strategy: str, symbol: str, trade: _OpenTrade, when: pd.Timestamp, reason: str) -> dict:
    entry_price = trade.entry_value / trade.entry_size
    exit_price = trade.exit_value / trade.exit_size
    size = trade.entry_size
    gross = (exit_price - entry_price) * size * trade.direction
    pnl = gross - trade.commission
    return {
        "strategy": strategy, "symbol": symbol, "direction": "long" if trade.direction > 0 else "short",
        "entry_time": trade.entry_time.isoformat(), "entry_price": round(entry_price, 6),
        "exit_time": when.isoformat(), "exit_price": round(exit_price, 6), "size": size,
        "pnl": round(pnl, 2), "pnl_pct": round(pnl / (entry_price * size) * 100.0, 4),
        "commission": round(trade.commission, 2), "exit_reason": reason, "filters": trade.filters,
    }


def fill_time(data, order: bt.Order) -> pd.Timestamp:
    """When a fill happened, in New York time.

    Intraday bars: the bar's time. Daily bars only say which session: a market
    order fills at its open, anything else is stamped at the session close.
    """
    stamp = _date_of(order.executed.dt)
    if not getattr(data, "daily", False):
        # A market-on-close order fills in the closing auction: at the official close (backtests
        # execute it on the session's last bar, which is stamped at its start).
        if order.exectype == bt.Order.Close and market_calendar.is_session(stamp.date()):
            return market_calendar.session_close(stamp.date())
        return _new_york(stamp)
    day = stamp.date()
    if order.exectype == bt.Order.Market and market_calendar.is_session(day):
        return market_calendar.session_open(day)
    if market_calendar.is_session(day):
        return market_calendar.session_close(day)
    return pd.Timestamp(dt.datetime.combine(day, dt.time(16))).tz_localize(NEW_YORK)


_NEW_YORK_ZONE = ZoneInfo(NEW_YORK)


@lru_cache(maxsize=4096)
def _new_york(stamp: dt.datetime) -> pd.Timestamp:
    # Orders of one decision share their times: convert each once. Attaching the zone (fold 0: the
    # first of a repeated hour, as tz_localize's default) is the same Timestamp as tz_localize, 5x cheaper.
    return pd.Timestamp(stamp.replace(tzinfo=_NEW_YORK_ZONE))


#: backtrader's date number to its naive datetime, once per number: the orders of one decision, a fill and
#: its bar's row share their times.
_date_of = lru_cache(maxsize=8192)(bt.num2date)


def _bar_stamp(data) -> dt.datetime:
    """``data.datetime.datetime(0)``: the current bar's naive time."""
    line = data.lines.datetime
    if getattr(line, "_tz", None) is None:
        return _date_of(line.array[line.idx])
    return line.datetime(0)


def _bar_minutes(data) -> int:
    if getattr(data, "_timeframe", None) == bt.TimeFrame.Minutes:
        return int(getattr(data, "_compression", 1) or 1)
    return 1


def session_time(stamp: dt.datetime) -> pd.Timestamp:
    """The close of the session of a clock time (the time itself off-session): equity's row key."""
    day = stamp.date()
    if market_calendar.is_session(day):
        return market_calendar.session_close(day)
    return _new_york(stamp)


def session_start(stamp: dt.datetime) -> pd.Timestamp:
    """The open of the session of a clock time (the time itself off-session)."""
    day = stamp.date()
    if market_calendar.is_session(day):
        return market_calendar.session_open(day)
    return _new_york(stamp)


def order_created_time(data, order: bt.Order) -> pd.Timestamp:
    """When an order was sent: the completion time of the bar it was decided on."""
    return bar_completion(data, _date_of(order.created.dt))


def bar_time(data) -> pd.Timestamp:
    """The time the current bar of ``data`` completed."""
    return bar_completion(data, _bar_stamp(data))


def bar_completion(data, stamp: dt.datetime) -> pd.Timestamp:
    """When the bar of ``data`` stamped ``stamp`` completed: a daily bar at its session close,
    an intraday bar (stamped at its start) one bar length later."""
    if getattr(data, "daily", False):
        if market_calendar.is_session(stamp.date()):
            return market_calendar.session_close(stamp.date())
    else:
        stamp += dt.timedelta(minutes=_bar_minutes(data))
    return _new_york(stamp)


def _bar_end_key(data):
    """:func:`bar_time` as an equity key: for intraday bars the aware ``datetime`` itself (equal to, hashed
    as, ordered and framed as the Timestamp, and built without one: a row per bar while a position is open)."""
    if getattr(data, "daily", False):
        return bar_time(data)
    stamp = _bar_stamp(data) + dt.timedelta(minutes=_bar_minutes(data))
    return stamp.replace(tzinfo=_NEW_YORK_ZONE)


class RunRecorder(bt.Analyzer):
    """Feeds a shared :class:`RunLog` from one strategy's notifications."""

    params = (("runlog", None),)

    def start(self):
        self.runlog: RunLog = self.p.runlog
        self.name = getattr(self.strategy, "label", type(self.strategy).__name__)
        self._clock_day, self._equity_key = None, None
        self._last_when, self._last_iso = None, ""

    def notify_order(self, order: bt.Order):
        if order.status == order.Created:
            return
        data = order.data
        reason = order.info.get("reason", "")
        filled = order.status in (order.Partial, order.Completed)
        modified = getattr(order, "modified", False)   # a working order's prices changed in place (IB's modification)
        if modified:
            when = bar_time(data)
        elif filled:
            when = fill_time(data, order)
        elif order.status in (order.Submitted, order.Accepted):
            when = order_created_time(data, order)
        else:
            when = bar_time(data)
        commission = 0.0
        fill_price = None
        filled_size = 0.0
        if filled:
            # Each notification carries the bits executed since the last one.
            for bit in order.executed.iterpending():
                fill_size = bit.size
                fill_price = bit.price
                filled_size += abs(fill_size)
                commission += bit.comm
                self.runlog.add_fill(self.name, data._name, when, fill_size, bit.price, bit.comm, reason,
                                     order.info.get("filters") or "")
        # A fill's row: the shares of this event (None if none). A row ending the order without a fill
        # (cancelled, expired, refused) says how much of it filled in all: 0, or what a part-filled entry
        # filled before its rest ended.
        size_of_row = filled_size or None
        if not filled and not modified and order.status in _ENDED_UNFILLED:
            size_of_row = abs(order.executed.size)
        if when is not self._last_when:   # the orders of one decision share their time (the same object)
            self._last_when, self._last_iso = when, when.isoformat()
        self.runlog.orders.append({
            "time": self._last_iso, "strategy": self.name, "symbol": data._name, "order_id": order.ref,
            "side": "buy" if order.isbuy() else "sell", "type": _EXECTYPE_NAMES.get(order.exectype, str(order.exectype)),
            "size": abs(order.created.size),
            "limit_price": order.created.price if order.exectype == bt.Order.Limit else
            (order.created.pricelimit if order.exectype == bt.Order.StopLimit else None),
            "stop_price": order.created.price if order.exectype in (bt.Order.Stop, bt.Order.StopLimit) else None,
            "status": "Modified" if modified else order.getstatusname(), "filled_size": size_of_row, "fill_price": fill_price,
            "commission": round(commission, 4) if filled else None, "reason": reason,
        })

    def next(self):
        # A row at every session's close (the last value of the session wins), and at the completion
        # of every bar while a position is open, so intraday trades show in drawdown and exposure.
        # The clock is the latest bar of any feed. The first row is the account before anything could
        # fill, at the first session's open: a trade on the first session shows against the start.
        own = getattr(self.strategy, "bars", None)
        if own is not None and not len(own):
            return   # only the warm-up history of a filter's daily leg so far (an intraday playbook's)
        clock = self.strategy.datetime[0]
        broker = self.strategy.broker
        value, cash = broker.getvalue(), broker.getcash()
        if self._clock_day is None:
            self.runlog.equity[session_start(bt.num2date(clock))] = (value, cash)
        if int(clock) != self._clock_day:
            self._clock_day, self._equity_key = int(clock), session_time(bt.num2date(clock))
        data = self.strategy.data
        if any(position.size for position in broker.positions.values()) and len(data):
            # (a feed with no bar yet: e.g. a daily playbook's first session while an intraday one holds)
            self.runlog.equity[_bar_end_key(data)] = (value, cash)
        self.runlog.equity[self._equity_key] = (value, cash)

    def get_analysis(self):
        return {}
