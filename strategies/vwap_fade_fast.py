"""What the fast backtest path of ``vwap_close_fade`` precomputes, and which bars it must feed.

The playbook can only act on a bar inside the window of an eligible session
where :func:`~strategies.vwap_close_fade.fade_signal` fires, and from then on
only the bars up to the close matter (its fills and exits). Everything else
(the morning, the other sessions) only feeds the VWAP sums, which numpy
computes here for all bars at once, with the same arithmetic as the bar-by-bar
indicator. So the fast path feeds backtrader:

* for each session where a trigger can fire: the bars from the first such bar
  to the session's last bar;
* for every other session: its last bar only (so equity has one row per session).

The trigger is a pure function of the precomputed lines and the parameters;
the strategy's own extra guards (one trade a day, a pending entry, the risk
budget) can only drop trades, never add them. Fills and prices are therefore
those of the plain path, bar for bar.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from strategies import market_calendar as cal
from strategies.session_vwap import (SlotVolume, cumulative_by_minute, reference_price, session_layout,
                                     session_vwap)
from strategies.vwap_close_fade import (REFERENCE_MINUTES, WINDOW_MINUTES, VwapCloseFadeParams, eligible_reasons,
                                        fade_signals)

OPEN_MINUTE = 9 * 60 + 30


class SessionGrid:
    """Per-bar session row and minute, and per-session facts, of a 1-minute bar table."""

    def __init__(self, index: pd.DatetimeIndex):
        local = index.tz_convert(cal.NEW_YORK).tz_localize(None).as_unit("ns")
        stamps = local.asi8
        day_ns = local.normalize().asi8
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
    marks = np.zeros(n + 1, dtype=np.int64)
    close = bars["close"].to_numpy(dtype="float64")
    for p in params:
        eligible = np.array([bool(eligible_reasons(d, p)) for d in grid.days])
        signal = fade_signals(close, lines["vwap"], lines["sigma"], lines["ref_price"], lines["slot_ratio"], p)
        candidate = (signal != 0) & trigger_window(grid, p) & eligible[grid.row]
        positions = np.flatnonzero(candidate)
        rows, first = np.unique(grid.row[positions], return_index=True)
        marks[positions[first]] += 1
        marks[grid.session_end[rows] + 1] -= 1
    keep = np.cumsum(marks[:n]) > 0
    keep[grid.session_end] = True
    return keep
