"""Playbook C: fade a stretched price against the session VWAP into the close (intraday).

On 1-minute regular-hours bars, on eligible days (month ends, the turn of the
year, quarter ends, the quarterly third Fridays; each switchable):

* session VWAP and σ from the open (:mod:`strategies.session_vwap`), ``z = (close − VWAP)/σ``;
* trigger on a completed bar inside the window, from 30 minutes before the
  close (15:30) until one minute before that day's market-on-close cutoff
  (date-versioned; early closes move both): ``z ≥ k`` → short, ``z ≤ −k`` →
  long, if the price also moved ``min_move_pct`` since an hour before the
  close (15:00) in the same direction, and optionally if the last 30 minutes'
  volume is ``volume_ratio_min`` × its 20-session average for the same slot;
* entry: market, at the next bar's open; one trade per instrument per day;
* entry: a day order; if the session ends before it fills (a signal on the
  session's last bar in the data) it expires, it never fills the next morning;
  one still working (part-filled or not) on the last bar that may trigger, or
  later, is cancelled (a WARNING says how much filled), so that the exits of
  what filled can be sized before the market-on-close cutoff;
* an entry that ends part-filled (cancelled or expired after some shares)
  keeps them: the full-size exits are withdrawn and a stop, the target (if
  any) and the close exit go out for what filled, the stop and the target at
  their prices moved with the fill; ended past the cutoff, where a
  market-on-close is refused, the close exit is a market order instead. The
  new exits go out once the broker has confirmed the old ones withdrawn,
  sized to the position then: an old exit that filled before its cancel
  arrived (a broker keeps working an order until then) is not closed twice.
  One that ends with nothing filled takes its exits with it;
* exits, attached to the entry (a bracket): a stop at the nearer of z = ±``stop_z``
  and ``stop_pct`` adverse, optionally a limit at the VWAP, and a
  market-on-close order sent with the entry, so before the cutoff. The stop
  and the target keep their distance from the decision close and move with
  the entry's actual fill. The close exit fills at the session's official
  close on the same day, at the close of its last bar (the last bar in the
  data when the final minutes are missing). Never held overnight: a position
  found at a new session is closed at once.
* size: ``risk_pct`` of equity over the stop distance, capped at ``max_position_pct``.

Bar times: as the data and IB stamp them, at the bar's START (the 15:41 bar
covers 15:41:00–15:41:59 and is decided on at 15:42:00). A trigger bar must
lie inside the window: start ≥ window start, end ≤ cutoff − 1 minute.

The indicator lines (``vwap``, ``sigma``, ``ref_price``, ``slot_ratio``) come
from the feed when it carries them (the fast backtest path precomputes them
with numpy for only the bars that matter), else from
:class:`SessionVwapIndicator`, bar by bar (every bar, paper trading). Both give
the same numbers, so both give the same trades.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import backtrader as bt
import numpy as np
import pandas as pd

from strategies import market_calendar as cal
from strategies.params import backtrader_params
from strategies.playbook_params import VwapCloseFadeParams
from strategies.signals.filter_feeds import SignalFilters
from strategies.strategy_base import FlowbotStrategy
from strategies.session_vwap import SessionVwap, SlotVolume, cumulative_by_minute

LONG, SHORT = 1, -1
WINDOW_MINUTES = 30        # the window opens this long before the close (15:30)
REFERENCE_MINUTES = 60     # the move is measured from this long before the close (15:00)
ONE_MINUTE = 1.0 / 1440.0  # in backtrader date numbers (days)
EPSILON = 0.5 / 86400.0    # half a second, against float noise in date numbers
LINE_NAMES = ("vwap", "sigma", "ref_price", "slot_ratio")


@dataclass(frozen=True)
class SessionPlan:
    """One session's timetable, as backtrader date numbers of bar START stamps."""

    day: dt.date
    open_num: float
    first_trigger: float     # first bar that may trigger (starts at the window's start)
    last_trigger: float      # last bar that may trigger (ends one minute before the cutoff)
    reference_end: float     # bars ending at or before this set the reference price
    last_bar: float          # the session's last bar: market-on-close orders fill at its close
    length: int              # minutes in the session
    session_close: dt.datetime  # naive New York time of the close
    eligible: tuple[str, ...]


def eligible_reasons(day: dt.date, p: VwapCloseFadeParams) -> tuple[str, ...]:
    """Why ``day`` is eligible (empty if it is not)."""
    if not cal.is_session(day):
        return ()
    if p.every_day:
        return ("every day",)
    reasons = []
    from_end = cal.sessions_from_end_of_month(day)
    if p.month_end and from_end <= p.month_end_sessions:
        reasons.append(f"month end ({from_end} from last)")
    if p.year_turn and ((day.month == 12 and from_end <= p.year_turn_sessions)
                        or (day.month == 1 and cal.session_number_in_month(day) <= p.year_turn_sessions)):
        reasons.append("turn of the year")
    if p.quarter_end and day.month in (3, 6, 9, 12) and from_end == 1:
        reasons.append("quarter end")
    if p.quad_witching and day.month in (3, 6, 9, 12) and day == cal.monthly_opex_session(day.year, day.month):
        reasons.append("third Friday (quarterly expiration)")
    return tuple(reasons)


def session_plan(day: dt.date, p: VwapCloseFadeParams) -> SessionPlan:
    close_at = cal.session_close(day)
    close = dt.datetime.combine(day, dt.time(close_at.hour, close_at.minute))
    # moc_cutoff's wall-clock time (the close less the venue's minutes; never across a DST change),
    # without a Timestamp per session.
    cutoff = close - dt.timedelta(minutes=cal.moc_minutes_before_close(day, p.venue))
    opening = dt.datetime.combine(day, dt.time(9, 30))
    minute = dt.timedelta(minutes=1)
    num = bt.date2num
    return SessionPlan(
        day=day, open_num=num(opening),
        first_trigger=num(close - dt.timedelta(minutes=WINDOW_MINUTES)),
        last_trigger=num(cutoff - 2 * minute),
        reference_end=num(close - dt.timedelta(minutes=REFERENCE_MINUTES)),
        last_bar=num(close - minute),
        length=int((close - opening) / minute),
        session_close=close,
        eligible=eligible_reasons(day, p),
    )


def fade_signal(close: float, vwap: float, sigma: float, ref: float, slot_ratio: float,
                p: VwapCloseFadeParams) -> int:
    """SHORT, LONG or 0 for one completed bar inside the window (see the module docstring)."""
    if not sigma > 0.0 or not ref > 0.0:
        return 0
    z = (close - vwap) / sigma
    move = close / ref - 1.0
    threshold = p.min_move_pct / 100.0
    if p.volume_ratio_min is not None and not slot_ratio >= p.volume_ratio_min:
        return 0
    if p.k <= z < p.stop_z and move >= threshold:
        return SHORT
    if -p.stop_z < z <= -p.k and move <= -threshold:
        return LONG
    return 0


def fade_signals(close: np.ndarray, vwap: np.ndarray, sigma: np.ndarray, ref: np.ndarray, slot_ratio: np.ndarray,
                 p: VwapCloseFadeParams) -> np.ndarray:
    """:func:`fade_signal` on arrays (the same comparisons, element by element)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (sigma > 0.0) & (ref > 0.0)
        z = (close - vwap) / sigma
        move = close / ref - 1.0
    threshold = p.min_move_pct / 100.0
    if p.volume_ratio_min is not None:
        ok &= slot_ratio >= p.volume_ratio_min
    short = ok & (p.k <= z) & (z < p.stop_z) & (move >= threshold)
    long = ok & (-p.stop_z < z) & (z <= -p.k) & (move <= -threshold)
    return np.where(short, SHORT, np.where(long, LONG, 0))


def exit_prices(direction: int, close: float, vwap: float, sigma: float,
                p: VwapCloseFadeParams) -> tuple[float, float | None]:
    """(stop, target) of a trade decided at ``close``: the nearer of the z and percent stops, the VWAP."""
    z_stop = vwap - direction * p.stop_z * sigma
    pct_stop = close * (1.0 - direction * p.stop_pct / 100.0)
    stop = max(z_stop, pct_stop) if direction == LONG else min(z_stop, pct_stop)
    return stop, (vwap if p.exit_at_vwap else None)


class SessionVwapIndicator(bt.Indicator):
    """VWAP, σ, reference price and slot-volume ratio, bar by bar (resets each session)."""

    lines = LINE_NAMES
    params = (("slot_volume", False),)

    def __init__(self):
        self._running = SessionVwap()
        self._slots = SlotVolume()
        self._day_key = None
        self._plan: SessionPlan | None = None
        self._ref = math.nan
        self._cols: list[int] = []
        self._volumes: list[float] = []

    def next(self):
        data = self.data
        dt0 = data.datetime[0]
        key = int(dt0)
        if key != self._day_key:
            self._new_session(dt0, key)
        high, low, close, volume = data.high[0], data.low[0], data.close[0], data.volume[0]
        vwap, sigma = self._running.update(high, low, close, volume)
        plan = self._plan
        if dt0 + ONE_MINUTE <= plan.reference_end + EPSILON:
            self._ref = close
        ratio = math.nan
        if self.p.slot_volume:
            col = int(round((dt0 - plan.open_num) * 1440.0))
            self._cols.append(col)
            self._volumes.append(volume)
            cum = cumulative_by_minute(np.array(self._cols), np.array(self._volumes), plan.length)
            ratio = self._slots.ratio(cum, col + 1, plan.length)
        self.lines.vwap[0] = vwap
        self.lines.sigma[0] = sigma
        self.lines.ref_price[0] = self._ref
        self.lines.slot_ratio[0] = ratio

    def _new_session(self, dt0: float, key: int) -> None:
        if self.p.slot_volume and self._plan is not None and self._cols:
            self._slots.add_session(cumulative_by_minute(np.array(self._cols), np.array(self._volumes),
                                                         self._plan.length), self._plan.length)
        self._day_key = key
        # The timetable's open, reference time and length do not depend on the parameters.
        self._plan = _timetable(bt.num2date(dt0).date())
        self._running.reset()
        self._ref = math.nan
        self._cols, self._volumes = [], []


@lru_cache(maxsize=512)
def _timetable(day: dt.date) -> SessionPlan:
    return session_plan(day, _DEFAULT_PARAMS)


_DEFAULT_PARAMS = VwapCloseFadeParams()


class VwapCloseFade(SignalFilters, FlowbotStrategy):
    """Playbook C; see the module docstring. Orders carry ``info.reason`` and ``info.strategy``."""

    Params: ClassVar[type[PlaybookParams]] = VwapCloseFadeParams
    extra_feeds: ClassVar[tuple[str, ...]] = ()
    #: Bars this playbook needs: 1-minute regular-hours bars.
    bar_minutes: ClassVar[int] = 1
    #: The engine may feed only the bars that matter, with precomputed lines (strategies.vwap_fade_fast).
    fast_feed: ClassVar[bool] = True
    #: No fixed side: the report's unconditional comparison fades the move since 15:00.
    direction: ClassVar[int] = 0
    #: Its filters read daily feeds only (strategies.signals.filter_feeds).
    filters_read_instrument: ClassVar[bool] = False

    params = backtrader_params(VwapCloseFadeParams)

    def __init__(self):
        super().__init__()
        if all(hasattr(self.bars.lines, name) for name in LINE_NAMES):
            self.vw = self.bars.lines          # precomputed by the feed (fast path)
        else:
            self.vw = SessionVwapIndicator(self.bars, slot_volume=self.config.volume_ratio_min is not None)
        self._seen = 0
        self._day_key = None
        self.plan: SessionPlan | None = None
        self.traded_today = False
        self.entry_order: bt.Order | None = None
        self.exit_orders: list[bt.Order] = []
        self.flatten_order: bt.Order | None = None
        self._withdrawing: set[int] = set()   # refs of full-size exits being withdrawn after a part-filled entry
        self._filled_entry: bt.Order | None = None   # the part-filled entry whose exits are being resized
        self._entry_bar = 0          # len(self.bars) when the working entry was sent
        self._exit_plan: tuple[int, float, float | None, float] | None = None   # direction, stop, target, anchor
        self.bind_filters()

    # -- the bar loop -----------------------------------------------------------------
    def prenext(self):
        # Another playbook's feed may start later and hold the common clock back.
        periods = {id(d): p for d, p in zip(self.datas, self._minperiods)}
        if len(self.bars) and len(self.bars) >= periods[id(self.bars)]:
            self.next()

    def next(self):
        if len(self.bars) == self._seen:    # another feed advanced; this one did not
            return
        self._seen = len(self.bars)
        dt0 = self.bars.datetime[0]
        key = int(dt0)
        if key != self._day_key:
            self._start_session(dt0, key)
        plan = self.plan
        if (self.entry_order is not None and self._entry_bar < len(self.bars)
                and dt0 >= plan.last_trigger - EPSILON and self.entry_order.alive()):
            self._cancel_late_entry()
        if (not plan.eligible or self.traded_today or self.entry_order is not None
                or not plan.first_trigger - EPSILON <= dt0 <= plan.last_trigger + EPSILON):
            return
        vw = self.vw
        close = self.bars.close[0]
        vwap, sigma = vw.vwap[0], vw.sigma[0]
        direction = fade_signal(close, vwap, sigma, vw.ref_price[0], vw.slot_ratio[0], self.config)
        if direction:
            self._enter(direction, close, vwap, sigma, vw.ref_price[0])

    def _start_session(self, dt0: float, key: int) -> None:
        self._day_key = key
        day = bt.num2date(dt0).date()
        self.plan = session_plan(day, self.config)
        self.traded_today = False
        position = self.getposition(self.bars).size
        at_market = [o for o in self.exit_orders if o.exectype == bt.Order.Market and o.alive()]
        if position and at_market:
            self.log.error(f"{day}: found {position:+g} held overnight; its market exit sent after the "
                           f"market-on-close cutoff closes it at the open")
        elif position and self.flatten_order is None:
            self.log.error(f"{day}: found {position:+g} held overnight (the close exit did not fill); "
                           f"closing at the open")
            for order in self.exit_orders:
                self.cancel(order)
            self.flatten_order = self.close(data=self.bars)
            self._tag(self.flatten_order, "overnight_flatten")

    # -- entries ------------------------------------------------------------------------
    def _enter(self, direction: int, close: float, vwap: float, sigma: float, ref: float) -> None:
        cfg, plan = self.config, self.plan
        z = (close - vwap) / sigma
        stop, target_price = exit_prices(direction, close, vwap, sigma, cfg)
        size = self.size_by_risk(abs(close - stop), close, buy=direction == LONG)
        when = self.exchange_time(bt.num2date(self.bars.datetime[0]))
        why = (f"z {z:+.2f} (close {close:.2f}, VWAP {vwap:.2f}, σ {sigma:.3f}), "
               f"{(close / ref - 1) * 100:+.2f}% since the reference {ref:.2f}; {', '.join(plan.eligible)}")
        self.traded_today = True   # filters read daily bars: a verdict holds for the whole session
        filters_ok, filters = self.filters_verdict()
        if filters:
            filters = f"as of {self.filters_as_of() or 'no daily bar yet'}: {filters}"
        if not filters_ok:
            self.log.debug(f"{when}: signal ({why}) held back by a filter: {filters}")
            return
        if size <= 0:
            self.log.info(f"{when}: signal ({why}) but the risk budget buys less than one share")
            return
        side, close_side = (self.buy, self.sell) if direction == LONG else (self.sell, self.buy)
        # Day orders: nothing of the bracket may outlive the session (a broker cancels them at the close).
        day = plan.session_close
        self.entry_order = side(data=self.bars, size=size, exectype=bt.Order.Market, valid=day, transmit=False)
        self._tag(self.entry_order, "entry")
        self._entry_bar = len(self.bars)
        self._exit_plan = (direction, stop, target_price, float(close))
        # The exits keep their distance from the decision close and move with the entry's fill.
        self.entry_order.addinfo(anchor=float(close), filters=filters)
        anchored = {"entry_ref": self.entry_order.ref}
        stop_order = close_side(data=self.bars, size=size, exectype=bt.Order.Stop, price=stop, valid=day,
                                parent=self.entry_order, transmit=False)
        self._tag(stop_order, "stop")
        stop_order.addinfo(**anchored)
        self.exit_orders = [stop_order]
        if target_price is not None:
            target = close_side(data=self.bars, size=size, exectype=bt.Order.Limit, price=target_price, valid=day,
                                parent=self.entry_order, transmit=False)
            self._tag(target, "vwap_target")
            target.addinfo(**anchored)
            self.exit_orders.append(target)
        on_close = close_side(data=self.bars, size=size, exectype=bt.Order.Close, parent=self.entry_order,
                              transmit=True)
        # backtrader's default end of session is midnight, so its market-on-close would fill on the
        # next day's first bar: end this session at its last bar (13:00 closes included).
        on_close.dteos = plan.last_bar
        self._tag(on_close, "close")
        self.exit_orders.append(on_close)
        stop = self.order_price(stop_order, stop)   # as sent (a broker may have put it on the tick)
        target_sent = self.order_price(self.exit_orders[1], target_price) if target_price is not None else None
        self.tell(f"{when}: {'buy' if direction == LONG else 'sell'} {size} at the next open "
                      f"({why}); stop {stop:.2f}, "
                      f"{f'VWAP target {target_sent:.2f}, ' if target_sent is not None else ''}"
                      f"market-on-close" + (f"; filters {filters}" if filters else ""))

    # -- notifications ------------------------------------------------------------------
    def notify_order(self, order: bt.Order):
        if order.status in (order.Submitted, order.Accepted, order.Partial):
            return
        when = self.exchange_time(bt.num2date(self.bars.datetime[0])) if len(self.bars) else "before the first bar"
        reason = order.info.get("reason")
        if self.entry_order is not None and order.ref == self.entry_order.ref:
            self.entry_order = None
            if order.status == order.Completed:
                return
            if order.executed.size:
                self._resize_exits(order, when)
                return
            self.log.warning(f"{when}: entry {order.getstatusname()}; its exits are cancelled with it")
            self.exit_orders = []
        elif any(order.ref == o.ref for o in self.exit_orders):
            if order.status == order.Completed:
                self.tell(f"{when}: {reason} filled at {order.executed.price:.2f}")
                self.exit_orders = []
            elif order.status in (order.Margin, order.Rejected):
                self.log.error(f"{when}: exit {reason} {order.getstatusname()}")
        elif self.flatten_order is not None and order.ref == self.flatten_order.ref:
            self.flatten_order = None
        elif order.ref in self._withdrawing:
            self._withdrawing.discard(order.ref)
            if order.executed.size:
                self.log.warning(f"{when}: the withdrawn exit {reason} {order.getstatusname()} after "
                                 f"{abs(order.executed.size):g} before its cancel arrived")
            if not self._withdrawing:
                self._send_resized_exits(when)

    # -- an entry that did not fill in full -------------------------------------------------
    def _cancel_late_entry(self) -> None:
        """The last bar that may trigger: an entry still working is cancelled, so that the exits of what
        filled can still be sized before the market-on-close cutoff (a minute later)."""
        entry = self.entry_order
        when = self.exchange_time(bt.num2date(self.bars.datetime[0]))
        # A live broker also counts fills executed whose commission report is still on its way (not booked yet).
        executed = getattr(self.broker, "filled_at_gateway", None)
        filled = executed(entry) if executed is not None else abs(entry.executed.size)
        self.log.warning(f"{when}: entry still working, {filled:g} of {abs(entry.created.size):g} "
                         f"filled; cancelling its rest so the exits can be sized before the market-on-close cutoff")
        self.cancel(entry)

    def _resize_exits(self, order: bt.Order, when: str) -> None:
        """An entry ended part-filled: its full-size exits are withdrawn, and once the broker has confirmed
        that (:meth:`_send_resized_exits`) a stop, the target (if any) and the time exit go out for the
        position then, the stop and the target moved with the fill. Past the market-on-close cutoff the time
        exit is a market order (a MOC would be refused)."""
        filled = int(abs(order.executed.size))
        self.log.warning(f"{when}: entry {order.getstatusname()} after {filled} of {abs(order.created.size):g}; "
                         f"exits resized to the position")
        self._filled_entry = order
        for exit_order in self.exit_orders:
            exit_order.addinfo(replaced=True)
            if exit_order.alive():   # a backtest's broker withdraws the exits with their parent
                self._withdrawing.add(exit_order.ref)
                self.cancel(exit_order)
        self.exit_orders = []
        if not self._withdrawing:
            self._send_resized_exits(when)

    def _send_resized_exits(self, when: str) -> None:
        order = self._filled_entry
        filled = int(abs(self.getposition(self.bars).size))
        if not filled:
            self.log.warning(f"{when}: flat once the full-size exits were withdrawn (one filled first): "
                             f"no exits to resize")
            return
        direction, stop, target_price, anchor = self._exit_plan
        shift = order.executed.price - anchor if order.executed.price else 0.0
        close_side = self.sell if direction == LONG else self.buy
        plan = self.plan
        day = plan.session_close
        stop_order = close_side(data=self.bars, size=filled, exectype=bt.Order.Stop, price=stop + shift, valid=day)
        self._tag(stop_order, "stop")
        self.exit_orders = [stop_order]
        if target_price is not None:
            target = close_side(data=self.bars, size=filled, exectype=bt.Order.Limit, price=target_price + shift,
                                valid=day, oco=stop_order)
            self._tag(target, "vwap_target")
            self.exit_orders.append(target)
        # The last completed bar ends at (or after) the cutoff: a market-on-close would be refused.
        past_cutoff = self.bars.datetime[0] > plan.last_trigger + EPSILON
        if past_cutoff:
            time_exit = close_side(data=self.bars, size=filled, exectype=bt.Order.Market, oco=stop_order)
        else:
            time_exit = close_side(data=self.bars, size=filled, exectype=bt.Order.Close, oco=stop_order)
            time_exit.dteos = plan.last_bar
        self._tag(time_exit, "close")
        self.exit_orders.append(time_exit)
        self.tell(f"{when}: exits for {filled}: stop {self.order_price(stop_order, stop + shift):.2f}, "
                  + (f"VWAP target {self.order_price(self.exit_orders[1], target_price + shift):.2f}, "
                     if target_price is not None else "")
                  + ("market (past the market-on-close cutoff)" if past_cutoff else "market-on-close"))

    # -- the report's comparison --------------------------------------------------------
    @classmethod
    def holding_windows(cls, params: VwapCloseFadeParams, bars: pd.DataFrame) -> pd.DataFrame:
        """One row per eligible session with data in the window (see :func:`strategies.vwap_fade_fast.session_windows`)."""
        from strategies.vwap_fade_fast import session_windows

        return session_windows(bars, params)
