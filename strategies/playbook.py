"""The base of the daily playbooks: one trade at a time, entries and an OCO exit group.

Execution semantics (no look-ahead), shared by backtests and paper trading:

* Decisions are made in ``next()`` on a completed daily bar.
* Entries are market orders for the next session's open, or market-on-close
  (``bt.Order.Close``) orders for the next session's close.
* Exits form one OCO group: a stop, an optional target (limit) and the time exit,
  a market-on-close order sent the session before the exit day. The stop and
  the target keep their distance from the decision close and are anchored to
  the entry's actual fill (a gap or a next-close entry moves them with it). For a
  next-open entry the group is sent with the entry, so the stop protects the
  entry session too (the entry announces them, ``info.exits_follow``, so a
  broker can send entry and exits to the exchange as one bracket); for a
  market-on-close entry it is sent once the entry has filled.
* Every order carries ``info.reason`` (entry, stop, target, trailing_stop,
  time_exit, flatten) and ``info.strategy``; the run recorder reads them.
* A refused (Rejected/Margin) or cancelled entry cancels its exits; one that
  ended part-filled keeps the position and resizes the exits to it. A refused
  exit before the entry fills: the group is sent again once it has (once);
  with a position: the other exits are cancelled and it is flattened at
  market; a refused flatten is an ERROR that leaves it to the trader.

Subclasses implement ``decide(today)`` and describe the span they can hold
with ``holding_span(year)``; ``holding_windows`` turns it into the report's
comparison with simply holding. ``active_window(year)`` says from which session
a playbook may decide to the last one it may hold a position: a backtest may
feed only the bars around it (``runner.backtest.daily_window_feed``), with the
ATR precomputed on every bar and carried by the feed as its ``atr`` line.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import ClassVar

import backtrader as bt

from strategies.conditions import Condition
from strategies.market_calendar import nth_session_of_month, session_offset
from strategies.params import PlaybookParams
from strategies.signals.filter_feeds import SignalFilters
from strategies.holding_windows import HoldingWindows, span_return  # noqa: F401 - span_return re-exported
from strategies.strategy_base import FlowbotStrategy
from strategies.time_exit_hooks import TimeExitHooks

LONG, SHORT = 1, -1
#: What a broker's rounding onto the tick may move a price by (a cent, US stocks' tick above $1, and float noise).
ROUNDING = 0.0100001


@dataclass
class TradePlan:
    """One trade from its entry order until flat."""

    direction: int
    size: int
    stop: float
    target: float | None
    exit_day: dt.date
    why: str
    filled: bool = False
    entry_price: float | None = None
    anchor: float | None = None     # the decision close the stop and target were measured from
    trailing: bool = False
    time_exit_sent: bool = False
    flattening: bool = False        # left at market (a refused exit, or a broker could not send the time exit)
    time_exit_held: bool = False    # a broker that cannot send it in time leaves the trade itself (exit_now)


class Playbook(TimeExitHooks, SignalFilters, HoldingWindows, FlowbotStrategy):
    """Common machinery; see the module docstring for the execution contract."""

    #: The direction a playbook trades; the report's unconditional comparison uses it.
    direction: ClassVar[int] = LONG

    #: The playbook acts only inside ``active_window``: a backtest may feed it only those bars.
    window_feed: ClassVar[bool] = False

    def __init__(self):
        super().__init__()
        # A feed that carries the ATR precomputed over every bar (the window feed) is read as it is;
        # otherwise backtrader computes it bar by bar. Same values either way.
        self._fed_atr = getattr(self.bars, "atr_period", None) == self.config.atr_period
        if self._fed_atr:
            self.atr = self.bars.lines.atr
        else:
            self.atr = bt.indicators.AverageTrueRange(self.bars, period=self.config.atr_period)
        self.entry_order: bt.Order | None = None
        self.exit_orders: list[bt.Order] = []
        self.trade_plan: TradePlan | None = None   # set when an entry is sent, cleared when flat
        self.exit_resent = False                   # this trade's refused exit group was sent again once
        self.traded_windows: set[int] = set()
        self._year_base: dict[tuple[str, int], float] = {}   # (feed, year) -> last close of the year before
        self._last_day: dt.date | None = None
        self._bar_of_day: dict[dt.date, int] = {}   # session -> len(self.bars) when its bar was current
        self.bind_filters()

    # -- what subclasses write -------------------------------------------------
    def decide(self, today: dt.date) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def conditions(self, today: dt.date) -> list[Condition] | None:
        """The entry conditions on ``today``'s completed bar (``strategies.conditions``), the ones
        ``decide`` enters on; None for a playbook that does not list them."""
        return None

    def observe(self, today: dt.date) -> None:
        """Called on each completed bar before the playbook acts on it (a monitor's hook)."""

    @classmethod
    def active_window(cls, year: int, params: PlaybookParams) -> tuple[dt.date, dt.date] | None:
        """The first session the playbook may decide on in its ``year`` window and the last one
        it may hold a position in (its time exit); None if it never acts that year."""
        return None

    @classmethod
    def lookback_bars(cls, params: PlaybookParams) -> int:
        """How many bars before ``active_window``'s first session a decision reads (closes, volumes)."""
        return 30


    def close_on(self, day: dt.date, lookback: int = 30) -> float | None:
        """The close of the bar of session ``day`` within the last ``lookback`` bars, if any."""
        count = len(self.bars)
        position = self._bar_of_day.get(day)   # a bar once found stays where it is
        if position is not None:
            ago = position - count
            return float(self.bars.close[ago]) if -ago < min(count, lookback) else None
        for ago in range(0, -min(count, lookback), -1):
            if self.bars.datetime.date(ago) == day:
                self._bar_of_day[day] = count + ago
                return float(self.bars.close[ago])
        return None

    # -- the bar loop ----------------------------------------------------------
    def prenext(self):
        # Another playbook's feed (e.g. 1-minute bars that start years later) can hold the
        # common clock in prenext: act as soon as this playbook's own feeds are ready.
        own = [self.bars, *self.extra.values()]
        periods = {id(d): p for d, p in zip(self.datas, self._minperiods)}
        if all(len(d) >= periods[id(d)] for d in own):
            self.next()
            return
        self._warm_up()

    def _warm_up(self) -> None:
        if not len(self.bars):
            return
        # Indicators are still warming up, but year-to-date bases must be seen.
        today = self.bars.datetime.date(0)
        if today != self._last_day:
            self._track_year_base(today)
            self._last_day = today

    def next(self):
        if self._fed_atr and math.isnan(self.atr[0]):
            self._warm_up()   # a precomputed ATR warms up as backtrader's would: no decisions yet
            return
        today = self.bars.datetime.date(0)
        if today == self._last_day:   # another feed advanced; this one did not
            return
        self._track_year_base(today)
        self._last_day = today
        self.observe(today)
        if self.trade_plan is not None:
            self._manage_open_trade(today)
        elif self.entry_order is None:
            self.decide(today)

    def _track_year_base(self, today: dt.date) -> None:
        """Remember each feed's last total-return close of the previous year."""
        for data in (self.bars, *self.extra.values()):
            if self._last_day is None:
                # Data starting on the year's first session: its open is the base.
                if today == nth_session_of_month(today.year, 1, 1):
                    ratio = self.total_return_close(0, data) / float(data.close[0])
                    self._year_base[(data._name, today.year)] = float(data.open[0]) * ratio
            elif today.year != self._last_day.year:
                self._year_base[(data._name, today.year)] = self.total_return_close(-1, data)

    def year_to_date(self, data=None) -> float | None:
        """Total return since the last close of the previous year, or None if unknown."""
        data = data or self.bars
        base = self._year_base.get((data._name, data.datetime.date(0).year))
        if base is None:
            return None
        return self.total_return_close(0, data) / base - 1.0

    def total_return_close(self, ago: int = 0, data=None) -> float:
        data = data or self.bars
        line = getattr(data.lines, "adj_close", None)
        return float(line[ago] if line is not None else data.close[ago])

    # -- entries ---------------------------------------------------------------
    def enter(self, direction: int, *, stop: float, target: float | None, exit_day: dt.date,
              timing: str, today: dt.date, why: str, window: int) -> None:
        """Send an entry sized by risk, with its exit plan.

        ``timing``: next_open | next_close; ``window`` is the year whose window this
        trade belongs to (one trade per window).
        """
        filters_ok, filters = self.filters_verdict()
        if not filters_ok:
            self.log.debug(f"{today}: signal ({why}) held back by a filter: {filters}")
            return
        size = self.size_by_risk(abs(self.bars.close[0] - stop), float(self.bars.close[0]), buy=direction == LONG)
        if size <= 0:
            self.log.info(f"{today}: signal ({why}) but the risk budget buys less than one unit")
            return
        anchor = float(self.bars.close[0])
        self.trade_plan = TradePlan(direction, size, stop, target, exit_day, why, anchor=anchor)
        self.exit_resent = False
        exectype = bt.Order.Market if timing == "next_open" else bt.Order.Close
        side = self.buy if direction == LONG else self.sell
        # A next-open entry announces the exits sent with it: a broker that would otherwise send the entry
        # at once (IB) holds it until they are given and sends them together, so the entry is never live
        # without its stop. The backtest broker only keeps it in the order's info.
        announce = {"exits_follow": 1 if target is None else 2} if exectype == bt.Order.Market else {}
        self.entry_order = side(data=self.bars, size=size, exectype=exectype, **announce)
        self._tag(self.entry_order, "entry")
        self.entry_order.addinfo(anchor=anchor, filters=filters)
        self.traded_windows.add(window)
        if exectype == bt.Order.Market:
            self._send_exit_group(today)
        # The prices the exits went out at (on the tick at a broker that rounds them), else the plan's.
        exits = {order.info.get("reason"): order for order in self.exit_orders} if exectype == bt.Order.Market else {}
        stop = self.order_price(exits.get("stop"), stop)
        target = self.order_price(exits.get("target"), target)
        self.tell(f"{today}: {'buy' if direction == LONG else 'sell'} {size} at the "
                      f"{'next open' if timing == 'next_open' else 'next close'} ({why}); "
                      f"stop {stop:.2f}, target {'none' if target is None else f'{target:.2f}'}, "
                      f"time exit {exit_day}" + (f"; filters: {filters}" if filters else ""))

    # -- exits -----------------------------------------------------------------
    def _send_exit_group(self, today: dt.date) -> None:
        plan = self.trade_plan
        close_side = self.sell if plan.direction == LONG else self.buy
        # Sent with an entry that has not filled: a broker may attach them to it (IB holds attached
        # orders until their parent fills and cancels them if it is refused), and the backtest broker
        # moves them with the entry's fill (see _anchor_to_fill).
        with_entry = {} if plan.filled or self.entry_order is None else {"entry_ref": self.entry_order.ref}
        stop = close_side(data=self.bars, size=plan.size, exectype=bt.Order.Stop, price=plan.stop, **with_entry)
        self._tag(stop, "trailing_stop" if plan.trailing else "stop")
        self.exit_orders = [stop]
        if plan.target is not None:
            target = close_side(data=self.bars, size=plan.size, exectype=bt.Order.Limit,
                                price=plan.target, oco=stop, **with_entry)
            self._tag(target, "target")
            self.exit_orders.append(target)
        plan.time_exit_sent = False
        self._maybe_send_time_exit(today)

    def _maybe_send_time_exit(self, today: dt.date) -> None:
        plan = self.trade_plan
        if plan.time_exit_sent or plan.time_exit_held or not self.exit_orders:
            return
        if today >= session_offset(plan.exit_day, -1):
            close_side = self.sell if plan.direction == LONG else self.buy
            order = close_side(data=self.bars, size=plan.size, exectype=bt.Order.Close, oco=self.exit_orders[0])
            self._tag(order, "time_exit")
            self.exit_orders.append(order)
            plan.time_exit_sent = True

    def _manage_open_trade(self, today: dt.date) -> None:
        if self.exit_orders and not self.trade_plan.flattening:
            self._trail_stop(today)
            self._maybe_send_time_exit(today)

    def _trail_stop(self, today: dt.date) -> None:
        """After a gain of ``trail_after_atr`` ATRs, follow the close at ``trail_atr`` ATRs."""
        trail = self.config.trail_atr
        plan = self.trade_plan
        if not trail or not plan.filled:
            return
        atr = float(self.atr[0])
        d = plan.direction
        gain = (float(self.bars.close[0]) - plan.entry_price) * d
        if gain < self.config.trail_after_atr * atr:
            return
        new_stop = float(self.bars.close[0]) - d * trail * atr
        if (new_stop - plan.stop) * d <= 0:
            return
        # Replacing one member cancels the OCO group, so the whole group is re-sent.
        plan.stop, plan.trailing = new_stop, True
        self.exit_orders[0].addinfo(replaced=True)
        self.cancel(self.exit_orders[0])
        self._send_exit_group(today)

    # -- notifications ---------------------------------------------------------
    def notify_order(self, order: bt.Order):
        if order.status in (order.Submitted, order.Accepted, order.Partial):
            return
        # Notifications carry clones: match orders by their reference.
        reason = order.info.get("reason")
        if self.entry_order is not None and order.ref == self.entry_order.ref:
            self._on_entry_done(order)
        elif any(order.ref == exit_order.ref for exit_order in self.exit_orders):
            self._on_exit_done(order, reason)

    def _on_entry_done(self, order: bt.Order) -> None:
        self.entry_order = None
        today = self.bars.datetime.date(0)
        plan = self.trade_plan
        if order.status == order.Completed:
            plan.filled = True
            plan.entry_price = order.executed.price
            self._anchor_to_fill(today)
            return
        if order.executed.size:   # ended part-filled: protect what was bought, sized to it
            self.log.warning(f"{today}: entry {order.getstatusname()} after {abs(order.executed.size):g} of "
                             f"{plan.size}; exits resized to the position")
            plan.filled, plan.entry_price, plan.size = True, order.executed.price, int(abs(order.executed.size))
            self._shift_to_fill(plan)
            self._replace_exit_group(today)
            return
        self.log.warning(f"{today}: entry {order.getstatusname()}"
                         f"{': ' + order.info.reject_reason if order.info.get('reject_reason') else ''}; "
                         f"cancelling its exits")
        for exit_order in self.exit_orders:
            self.cancel(exit_order)
        self.exit_orders, self.trade_plan = [], None

    def _anchor_to_fill(self, today: dt.date) -> None:
        """Move the stop and target by the fill's distance from the decision close.

        Exits sent with the entry were moved by a broker that does so (the
        backtest broker, before they are checked on the entry's bar); otherwise
        they are re-sent at the anchored prices.
        """
        plan = self.trade_plan
        before = plan.stop
        self._shift_to_fill(plan)
        if not self.exit_orders:
            self._send_exit_group(today)
            return
        live = [o for o in self.exit_orders if o.alive()]
        # Moved by the broker: the stop is at the shifted plan, give or take the broker's rounding onto the
        # tick (less than half the shift); not moved: it is still the whole shift away.
        shift = abs(plan.stop - before)
        if live and shift > 1e-9 * abs(plan.stop) and \
                abs(float(self.exit_orders[0].created.price) - plan.stop) > max(shift / 2, ROUNDING):
            self._replace_exit_group(today)

    @staticmethod
    def _shift_to_fill(plan: TradePlan) -> None:
        if plan.anchor is None or plan.entry_price is None:
            return
        shift = plan.entry_price - plan.anchor
        plan.stop += shift
        if plan.target is not None:
            plan.target += shift
        plan.anchor = plan.entry_price   # shifted once

    def _replace_exit_group(self, today: dt.date) -> None:
        self._withdraw(self.exit_orders)
        self._send_exit_group(today)

    def _withdraw(self, orders: list[bt.Order]) -> None:
        """Cancel exits this playbook replaces itself (marked, so their Canceled is not a sibling's fill)."""
        for order in orders:
            order.addinfo(replaced=True)
            self.cancel(order)

    def _on_exit_done(self, order: bt.Order, reason: str | None) -> None:
        plan = self.trade_plan
        if order.status == order.Completed:
            self.tell(f"{self.bars.datetime.date(0)}: {reason} filled at {order.executed.price:.2f}")
            self.exit_orders, self.trade_plan = [], None
        elif order.status in (order.Margin, order.Rejected):
            self._on_exit_refused(order, reason, plan)
        # Canceled: an OCO sibling filled, or the group is being replaced.

    def _on_exit_refused(self, order: bt.Order, reason: str | None, plan: TradePlan | None) -> None:
        """Recovery: before the entry fills, the exit group is sent again once it has; with a
        position, it is flattened at market once; a refused flatten leaves it to the trader."""
        today = self.bars.datetime.date(0)
        why = order.info.get("reject_reason") or order.getstatusname()
        others = [o for o in self.exit_orders if o.ref != order.ref]
        if plan is None:
            return
        if reason == "flatten":
            self.log.error(f"{today}: flattening {order.getstatusname()} ({why}): the position is left open; "
                           f"close it by hand")
            self.exit_orders = []
            return
        if not plan.filled and not self.exit_resent:
            self.log.error(f"{today}: exit {reason} refused ({why}) before the entry filled; the exit group is "
                           f"sent again once the entry fills")
            self.exit_resent = True
            self._withdraw(others)
            self.exit_orders = []
            return
        self.log.error(f"{today}: exit {reason} refused ({why}): the position is unprotected; flattening it at "
                       f"market")
        self._withdraw(others)
        close_side = self.sell if plan.direction == LONG else self.buy
        flatten = close_side(data=self.bars, size=plan.size, exectype=bt.Order.Market)
        self._tag(flatten, "flatten")
        self.exit_orders = [flatten]
        plan.flattening = True
