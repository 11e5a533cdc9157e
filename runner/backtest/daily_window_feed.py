"""The daily fast path: feed a daily playbook only the bars around its yearly window.

A daily playbook that declares ``window_feed`` acts only inside
``active_window(year, params)`` (from the first session it may decide on to its
time exit). Outside, backtrader's event loop has nothing to do but carry the
bars through. So, as the intraday fast path does for minutes, a window feed
carries:

* the first bar of the data (a year-to-date base when the data starts on a
  year's first session);
* the last bar of every calendar year (the year-to-date base is the previous
  fed bar at a year change);
* around each window: the playbook's ``lookback_bars`` before its first session
  (the Dec OPEX close, the 5-session return, the 20-session volume median are
  read from those) through ``AFTER_BARS`` bars after its last one;
* the ATR precomputed over every bar, with backtrader's arithmetic, as the
  ``atr`` line (the playbook reads it instead of computing one).

Where a playbook reads ``len(data)`` (how far back to look), the look-back
bars make it read the same: at a decision either every earlier bar was fed or
more than it looks at. The precomputed ATR is NaN while backtrader's would
still warm up, and the playbook makes no decision then. Extra feeds of the
playbook (the bond leg) get the same bars. Equity has one
row per session on the plain path; skipped sessions are flat (no position can
be open outside a window), so their rows are the last fed row's values, filled
in after the run. If a run leaves anything that could act outside the fed bars
(a trade or an order still open at the end of a window), the caller runs the
plain path instead; :func:`left_inside_windows` checks it.

What does not change between runs of a sweep (the selected bars, their
timestamps, the ATR) is built once per bar table and window set.
"""
from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import backtrader as bt
import numpy as np
import pandas as pd

from runner.backtest.engine import build_cerebro
from runner.backtest.feeds import BulkPreloadFeed, _bt_datenums
from runner.backtest.recorder import EQUITY_COLUMNS, RunLog
from runner.config import RunConfig
from runner.data.bars import extra_feed_name, is_daily
from strategies import market_calendar
from strategies.registry import STRATEGIES

AFTER_BARS = 2
END_OF_SESSION = pd.Timedelta(hours=23, minutes=59, seconds=59, microseconds=999989)
TERMINAL_STATUSES = {"Completed", "Canceled", "Rejected", "Margin", "Expired"}


@dataclass(frozen=True)
class WindowBars:
    """The selected bars of one table, ready for a feed: backtrader times, columns, ATR."""

    keep: np.ndarray                      # mask over the table's rows
    spans: tuple[tuple[pd.Timestamp, pd.Timestamp], ...]   # first and last fed session close of each window
    times: np.ndarray
    columns: dict[str, np.ndarray]
    atr_period: int


class DailyWindowFeed(BulkPreloadFeed):
    """Selected daily bars and the ``atr`` line, preloaded in one step per line."""

    lines = ("atr",)

    def __init__(self, prepared: WindowBars, **kwargs):   # noqa: D107 - ArrayFeed's bars replaced by arrays
        bt.feed.DataBase.__init__(self, **kwargs)
        self.daily = True
        self.atr_period = prepared.atr_period
        self._times = prepared.times
        self._columns = prepared.columns
        self._position = 0


def average_true_range(bars: pd.DataFrame, period: int) -> np.ndarray:
    """backtrader's ``AverageTrueRange`` (Wilder's smoothing of the true range), value for value."""
    high, low, close = (bars[c].to_numpy(dtype="float64") for c in ("high", "low", "close"))
    n = len(close)
    out = np.full(n, np.nan)
    if n <= period:
        return out
    true_range = (np.maximum(high[1:], close[:-1]) - np.minimum(low[1:], close[:-1])).tolist()
    alpha = 1.0 / period
    alpha1 = 1.0 - alpha
    prev = math.fsum(true_range[:period]) / period   # the seed: the mean of the first period values
    values = [prev]
    for x in true_range[period:]:
        prev = prev * alpha1 + x * alpha
        values.append(prev)
    out[period:] = values
    return out


_prepared: dict[tuple, tuple[pd.DataFrame, WindowBars]] = {}


def prepare(bars: pd.DataFrame, windows: list[tuple[pd.Timestamp, pd.Timestamp, int]],
            atr_period: int) -> WindowBars | None:
    """The fed bars of ``bars`` for session windows ``windows`` (first, last, bars of look-back),
    cached per table.

    None if a bar is not on an NYSE session (then nothing says which bars a window needs).
    """
    key = (id(bars), tuple(windows), atr_period)
    hit = _prepared.get(key)
    if hit is not None and hit[0] is bars:
        return hit[1]
    if len(_prepared) > 32:
        _prepared.clear()
    days = bars.index.tz_localize(None).normalize()
    if not all(market_calendar.is_session(d) for d in days.date):
        _prepared[key] = (bars, None)
        return None
    n = len(days)
    keep = np.zeros(n, dtype=bool)
    keep[0] = True
    years = days.year.to_numpy()
    keep[np.flatnonzero(np.r_[years[1:] != years[:-1], True])] = True
    spans = []
    for first, last, lookback in windows:
        lo = int(days.searchsorted(first))
        hi = int(days.searchsorted(last, side="right")) - 1
        if lo >= n or hi < 0 or lo > hi + 1:
            continue
        start, stop = max(lo - lookback, 0), min(hi + AFTER_BARS, n - 1)
        keep[start:stop + 1] = True
        spans.append((start, stop))
    local = days[keep] + END_OF_SESSION
    columns = {name: bars[name].to_numpy(dtype="float64")[keep] for name in ("open", "high", "low", "close", "volume")}
    adj = bars["adj_close"] if "adj_close" in bars else bars["close"]
    columns["adj_close"] = adj.to_numpy(dtype="float64")[keep]
    columns["atr"] = average_true_range(bars, atr_period)[keep]
    span_times = tuple((_session_close(days[a]), _session_close(days[b])) for a, b in spans)
    prepared = WindowBars(keep, span_times, _bt_datenums(pd.DatetimeIndex(local)), columns, atr_period)
    _prepared[key] = (bars, prepared)
    return prepared


def _session_close(day: pd.Timestamp) -> pd.Timestamp:
    return market_calendar.session_close(day.date())


def window_feeds(cfg: RunConfig, bars: dict[str, pd.DataFrame]) -> dict[str, WindowBars]:
    """Feed name -> its window bars, for the daily feeds every reader of which supports windows."""
    readers: dict[str, list] = defaultdict(list)   # feed name -> strategies reading it
    main_of: dict[str, str] = {}                  # extra feed name -> its strategy's main feed
    for strategy in cfg.active_strategies():
        readers[strategy.symbol].append(strategy)
        for role in strategy.feeds:
            name = extra_feed_name(strategy.symbol, role)
            readers[name].append(strategy)
            main_of[name] = strategy.symbol
    out: dict[str, WindowBars] = {}
    for name, strategies in readers.items():
        frame = bars.get(name)
        if frame is None or len(frame) < 2 or not _is_daily(frame):
            continue
        if not all(getattr(STRATEGIES[s.name], "window_feed", False) for s in strategies):
            continue
        params = [s.typed_params() for s in strategies]
        if any(getattr(p, "filters", None) for p in params):
            continue   # signal filters read history the window leaves out (quarter bases, months of volume)
        periods = {p.atr_period for p in params}
        if len(periods) != 1:
            continue
        main = bars.get(main_of.get(name, name))
        if main is None or not main.index.equals(frame.index):
            continue   # an extra feed on other dates: its previous bar would not be the plain path's
        windows = _windows(strategies, params, frame)
        prepared = prepare(frame, windows, periods.pop())
        if prepared is not None:
            out[name] = prepared
    # A playbook's feeds are windowed together or not at all.
    for strategy in cfg.active_strategies():
        names = [strategy.symbol, *(extra_feed_name(strategy.symbol, r) for r in strategy.feeds)]
        if not all(n in out for n in names if n in bars):
            for n in names:
                out.pop(n, None)
    return out




_daily: dict[int, tuple[pd.DataFrame, bool]] = {}
_window_lists: dict[tuple, list] = {}


def _is_daily(frame: pd.DataFrame) -> bool:
    hit = _daily.get(id(frame))
    if hit is None or hit[0] is not frame:
        if len(_daily) > 32:
            _daily.clear()
        hit = _daily[id(frame)] = (frame, is_daily(frame))
    return hit[1]


def _windows(strategies, params, frame: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp, int]]:
    """Every (first session, last session, look-back bars) of the playbooks' windows over the data's years."""
    first_year, last_year = frame.index[0].year - 1, frame.index[-1].year
    key = (first_year, last_year, tuple((s.name, p.model_dump_json()) for s, p in zip(strategies, params)))
    hit = _window_lists.get(key)
    if hit is None:
        if len(_window_lists) > 256:
            _window_lists.clear()
        hit = _window_lists[key] = _compute_windows(strategies, params, first_year, last_year)
    return hit


def _compute_windows(strategies, params, first_year: int, last_year: int) -> list:
    windows = set()
    for strategy, p in zip(strategies, params):
        playbook = STRATEGIES[strategy.name]
        lookback = playbook.lookback_bars(p)
        for year in range(first_year, last_year + 1):
            try:
                window = playbook.active_window(year, p)
            except (ValueError, IndexError):   # the calendar does not reach that year
                continue
            if window is not None:
                windows.add((pd.Timestamp(window[0]), pd.Timestamp(window[1]), lookback))
    return sorted(windows)


def make_window_feed(prepared: WindowBars, name: str) -> DailyWindowFeed:
    return DailyWindowFeed(prepared, name=name, timeframe=bt.TimeFrame.Days, compression=1)


def left_inside_windows(runlog: RunLog, windows: dict[str, WindowBars]) -> bool:
    """True if everything the run did on windowed feeds began and ended inside one fed span.

    Then the bars it did not see could not have changed anything: the plain path gives the same run.
    """
    if any(symbol in windows for _, symbol in runlog._open):
        return False
    last_status: dict[int, str] = {}
    for order in runlog.orders:
        if order["symbol"] in windows:
            last_status[order["order_id"]] = order["status"]
    if any(status not in TERMINAL_STATUSES for status in last_status.values()):
        return False
    for trade in runlog.trades:
        prepared = windows.get(trade["symbol"])
        if prepared is None:
            continue
        entry, exit_ = pd.Timestamp(trade["entry_time"]), pd.Timestamp(trade["exit_time"])
        if not any(first <= entry and exit_ <= last for first, last in prepared.spans):
            return False
    return True

def fill_skipped_sessions(equity: dict[pd.Timestamp, tuple[float, float]],
                          bars: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The equity frame (``RunLog.equity_frame``'s columns) with a row for every session of any
    feed, as the plain path records it. A session no feed delivered is flat: its value and cash
    are those of the last row before it."""
    if not equity:
        return pd.DataFrame([], columns=EQUITY_COLUMNS)
    stamps = sorted(equity)
    recorded = pd.DatetimeIndex(stamps)   # the unit pandas infers for RunLog.equity_frame too
    values = np.array([equity[t] for t in stamps], dtype="float64").reshape(-1, 2)
    every = _session_closes(bars).as_unit(recorded.unit).union(recorded)
    source = np.full(len(every), -1)
    source[every.get_indexer(recorded)] = np.arange(len(recorded))
    source = np.maximum.accumulate(source)
    rows = source >= 0
    picked = values[source[rows]]
    return pd.DataFrame({"time": every[rows], "value": picked[:, 0], "cash": picked[:, 1]})

_closes: dict[tuple, tuple[list, pd.DatetimeIndex]] = {}


def _session_closes(bars: dict[str, pd.DataFrame]) -> pd.DatetimeIndex:
    """The session closes of every day of any table (the plain path's equity rows), cached."""
    key = tuple(id(frame) for frame in bars.values())
    hit = _closes.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], bars.values())):
        return hit[1]
    days = [frame.index.tz_localize(None).as_unit("ns").asi8 // market_calendar.DAY_NS for frame in bars.values()]
    _, closes_ns = market_calendar.sessions_among(np.concatenate(days).astype("datetime64[D]") if days else [])
    closes = pd.DatetimeIndex(closes_ns, tz="UTC").tz_convert(market_calendar.NEW_YORK)
    if len(_closes) > 16:
        _closes.clear()
    _closes[key] = (list(bars.values()), closes)
    return closes

def run_windowed(cfg: RunConfig, bars: dict[str, pd.DataFrame],
                 other_feeds: Callable[[dict[str, pd.DataFrame]], dict[str, bt.feed.DataBase]]
                 ) -> tuple[RunLog, pd.DataFrame] | None:
    """Run ``cfg`` with window feeds for its daily playbooks: (run log, equity), or None.

    ``other_feeds(bars)`` builds the feeds of the tables that get no window feed. None
    means nothing could be windowed, or the run did something the skipped bars could
    have changed: run the plain path.
    """
    windows = window_feeds(cfg, bars)
    if not windows:
        return None
    built = other_feeds({name: frame for name, frame in bars.items() if name not in windows})
    feeds = {name: make_window_feed(windows[name], name) if name in windows else built[name] for name in bars}
    runlog = RunLog()
    first_ref = next(bt.order.OrderBase.refbasis)
    bt.order.OrderBase.refbasis = itertools.count(first_ref)
    build_cerebro(cfg, feeds, runlog=runlog).run()
    if not left_inside_windows(runlog, windows):
        bt.order.OrderBase.refbasis = itertools.count(first_ref)   # the plain run numbers its orders the same
        return None
    return runlog, fill_skipped_sessions(runlog.equity, bars)
