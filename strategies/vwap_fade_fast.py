"""What the fast backtest path of ``vwap_close_fade`` precomputes, and which bars it must feed.

The playbook can only act on the first bar of a session where
:func:`~strategies.vwap_close_fade.fade_signal` fires inside the window of an
eligible session (it trades once a day). Its stop and target are fixed at
that bar (:func:`~strategies.vwap_close_fade.exit_prices`), so the bars on
which an exit can fill are known too. Everything else only feeds the VWAP
sums, which numpy computes here for all bars at once, with the same
arithmetic as the bar-by-bar indicator. So the fast path feeds backtrader:

* the trigger bar, and the next bar (the entry fills at its open);
* after it, the first bar whose range reaches the stop or the target (the
  bracket's exits are only checked on bars after the entry's, as in backtrader;
  bars that reach neither cannot fill anything);
* the session's last bar (the market-on-close fill, and equity's row), and the
  next session's first bar (where a position left by a missing last bar
  would be closed);
* for every other session: its last bar only.

The trigger and the exit prices are pure functions of the precomputed lines
and the parameters; the strategy's own guards (a pending entry, the risk
budget) can only drop trades, never add them. On the bars it skips, nothing
can fill and the strategy has nothing to decide, so fills and prices are
those of the plain path, bar for bar (the benchmark and the tests check it).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from strategies import market_calendar as cal
from strategies.session_vwap import (SlotVolume, cumulative_by_minute, reference_price, session_layout,
                                     session_vwap)
from strategies.vwap_close_fade import (REFERENCE_MINUTES, SHORT, WINDOW_MINUTES, VwapCloseFadeParams,
                                        eligible_reasons, exit_prices, fade_signals)

OPEN_MINUTE = 9 * 60 + 30


class SessionGrid:
    """Per-bar session row and minute, and per-session facts, of a 1-minute bar table."""

    def __init__(self, index: pd.DatetimeIndex):
        local = index.tz_convert(cal.NEW_YORK).tz_localize(None).as_unit("ns")
        stamps = local.asi8
        day_ns = stamps - stamps % 86_400_000_000_000   # midnight of each bar's day
        minute = (stamps - day_ns) // 60_000_000_000 - OPEN_MINUTE
        self.row, self.col, self.width = session_layout(day_ns, minute)
        starts = np.flatnonzero(np.r_[True, day_ns[1:] != day_ns[:-1]])
        self.session_start = starts
        self.session_end = np.r_[starts[1:], len(stamps)] - 1
        self.days: list[dt.date] = [d.date() for d in pd.DatetimeIndex(day_ns[starts])]
        closes = [cal.session_close(d) for d in self.days]
        self.length = np.array([(c.hour * 60 + c.minute) - OPEN_MINUTE for c in closes], dtype=np.int64)


def indicator_lines(bars: pd.DataFrame, slot_volume: bool = False, grid: SessionGrid | None = None) -> dict[str, np.ndarray]:
    """vwap, sigma, ref_price and slot_ratio for every bar, as ``SessionVwapIndicator`` computes them.

    ``slot_ratio`` is computed (when asked) for every bar of the sessions'
    closing half hour and the window, NaN elsewhere (the strategy reads it only there).
    """
    grid = grid or SessionGrid(bars.index)
    high, low, close, volume = (bars[c].to_numpy(dtype="float64") for c in ("high", "low", "close", "volume"))
    vwap, sigma = session_vwap(grid.row, grid.col, grid.width, high, low, close, volume)
    end_minute = grid.col + 1
    ref = reference_price(grid.row, end_minute <= grid.length[grid.row] - REFERENCE_MINUTES, close)
    ratio = np.full(len(close), np.nan)
    if slot_volume:
        slots = SlotVolume()
        for r, (first, last) in enumerate(zip(grid.session_start, grid.session_end)):
            length = int(grid.length[r])
            cols = grid.col[first:last + 1]
            cum = cumulative_by_minute(cols, volume[first:last + 1], length)
            for i in np.flatnonzero(cols + 1 > length - WINDOW_MINUTES - 1) + first:
                ratio[i] = slots.ratio(cum, int(grid.col[i]) + 1, length)
            slots.add_session(cum, length)
    return {"vwap": vwap, "sigma": sigma, "ref_price": ref, "slot_ratio": ratio}


def trigger_window(grid: SessionGrid, p: VwapCloseFadeParams) -> np.ndarray:
    """Per bar: True if it lies inside its session's trigger window (see the strategy)."""
    first = np.empty(len(grid.days), dtype=np.int64)
    last = np.empty(len(grid.days), dtype=np.int64)
    for r, day in enumerate(grid.days):
        close = cal.session_close(day)
        cutoff = cal.moc_cutoff(day, p.venue)
        length = int(grid.length[r])
        first[r] = length - WINDOW_MINUTES
        last[r] = length - int((close - cutoff) / pd.Timedelta(minutes=1)) - 2
    return (grid.col >= first[grid.row]) & (grid.col <= last[grid.row])


def bars_to_feed(bars: pd.DataFrame, lines: dict[str, np.ndarray], params: Iterable[VwapCloseFadeParams],
                 grid: SessionGrid | None = None) -> np.ndarray:
    """Mask of the bars the fast path feeds for playbooks with ``params`` (see the module docstring)."""
    grid = grid or SessionGrid(bars.index)
    n = len(bars)
    high, low, close = (bars[c].to_numpy(dtype="float64") for c in ("high", "low", "close"))
    keep = np.zeros(n, dtype=bool)
    keep[grid.session_end] = True
    for p in params:
        eligible = np.array([bool(eligible_reasons(d, p)) for d in grid.days])
        signal = fade_signals(close, lines["vwap"], lines["sigma"], lines["ref_price"], lines["slot_ratio"], p)
        candidate = (signal != 0) & trigger_window(grid, p) & eligible[grid.row]
        positions = np.flatnonzero(candidate)
        rows, first = np.unique(grid.row[positions], return_index=True)
        for r, c in zip(rows, positions[first]):
            c = int(c)
            keep[c:c + 2] = True
            end = int(grid.session_end[r])
            if end + 1 < n:
                keep[end + 1] = True                  # the next session's first bar
            direction = int(signal[c])
            stop, target = exit_prices(direction, float(close[c]), float(lines["vwap"][c]),
                                       float(lines["sigma"][c]), p)
            # A superset is always safe: widen the tests by a hair against rounding.
            tol = 1e-9 * abs(stop)
            after = slice(c + 2, end + 1)
            if direction == SHORT:
                reach = high[after] >= stop - tol
                if target is not None:
                    reach |= low[after] <= target + tol
            else:
                reach = low[after] <= stop + tol
                if target is not None:
                    reach |= high[after] >= target - tol
            hit = np.flatnonzero(reach)
            if len(hit):
                keep[c + 2 + int(hit[0])] = True
    return keep
