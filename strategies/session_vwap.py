"""Session VWAP and its volume-weighted standard deviation, reset each session.

From the session's first bar: typical price ``TP = (H+L+C)/3``,
``VWAP = ΣTP·V / ΣV``, ``σ = sqrt(ΣV·TP² / ΣV − VWAP²)``.

Two implementations with the same arithmetic, so both give bit-identical
numbers (tests check it):

* :class:`SessionVwap` updates bar by bar (backtests on every bar, paper
  trading);
* :func:`session_vwap` computes whole arrays at once with numpy (the fast
  backtest path). It lays each session out as one row of a (sessions ×
  minutes) matrix and accumulates along the rows: ``np.cumsum`` adds strictly
  left to right, and the zeros of missing minutes add nothing, so each running
  sum is the same sequence of float operations as the bar-by-bar one.

Also here: the reference price ("the last price at 15:00", or an hour before
an early close) and the closing-slot volume ratio, both pure functions of the
bars seen so far.
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np

#: Length of the volume slot the optional volume condition compares, minutes.
SLOT_MINUTES = 30
#: Sessions the slot volume is averaged over.
SLOT_SESSIONS = 20


class SessionVwap:
    """Running VWAP/σ of one session; call :meth:`reset` at each session's first bar."""

    __slots__ = ("sv", "spv", "sppv")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sv = 0.0
        self.spv = 0.0
        self.sppv = 0.0

    def update(self, high: float, low: float, close: float, volume: float) -> tuple[float, float]:
        """Add one bar; return (vwap, sigma), NaN while the session has no volume."""
        tp = (high + low + close) / 3.0
        self.sv += volume
        self.spv += tp * volume
        self.sppv += tp * tp * volume
        if not self.sv > 0.0:
            return math.nan, math.nan
        vwap = self.spv / self.sv
        var = self.sppv / self.sv - vwap * vwap
        return vwap, math.sqrt(var) if var > 0.0 else 0.0


def session_layout(day: np.ndarray, minute: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Row (session number) and column (minute of the session) of each bar, and the column count.

    ``day``: a session key per bar (non-decreasing); ``minute``: minutes since
    the session's open at the bar's start (0 for 09:30).
    """
    change = np.empty(len(day), dtype=bool)
    change[:1] = True
    change[1:] = day[1:] != day[:-1]
    row = np.cumsum(change) - 1
    width = int(minute.max()) + 1 if len(minute) else 1
    return row, minute.astype(np.int64, copy=False), width


def session_vwap(row: np.ndarray, col: np.ndarray, width: int, high: np.ndarray, low: np.ndarray,
                 close: np.ndarray, volume: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """VWAP and σ at every bar (NaN while a session has no volume), as :class:`SessionVwap` gives them."""
    # In place, with the same operations in the same order as the plain expressions (identical values).
    tp = np.add(high, low)
    tp += close
    tp /= 3.0
    rows = int(row[-1]) + 1 if len(row) else 0
    grid = np.empty((rows, width))
    cells = grid.reshape(-1)   # the same memory, flat: each bar's cell as one index, found once
    at = row.astype(np.int64)
    at *= width
    at += col
    weighted = np.empty_like(tp)
    sums = []
    for k in range(3):
        if k == 0:
            values = volume
        elif k == 1:
            values = np.multiply(tp, volume, out=weighted)
        else:
            values = np.multiply(tp, tp, out=weighted)
            values *= volume
        grid.fill(0.0)
        cells[at] = values
        np.cumsum(grid, axis=1, out=grid)
        sums.append(cells.take(at))
    del grid, cells, at, weighted, tp
    sv, vwap, var = sums
    traded = sv > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        vwap /= sv
        vwap[~traded] = np.nan
        var /= sv
        var -= vwap * vwap
    positive = var > 0.0
    sigma = var
    np.sqrt(sigma, out=sigma, where=positive)
    sigma[~positive] = 0.0
    sigma[~traded] = np.nan
    return vwap, sigma


def reference_price(row: np.ndarray, end_before_ref: np.ndarray, close: np.ndarray) -> np.ndarray:
    """At each bar, the close of the session's last bar that ended at or before the reference time.

    ``end_before_ref``: per bar, True if the bar ended at or before its session's
    reference time. NaN until the session has such a bar.
    """
    index = np.arange(len(close))
    last = np.maximum.accumulate(np.where(end_before_ref, index, -1))
    valid = last >= 0
    same_session = valid & (row[np.where(valid, last, 0)] == row)
    return np.where(same_session, close[np.where(valid, last, 0)], np.nan)


class SlotVolume:
    """Volume of the last ``SLOT_MINUTES`` against its average at the same distance to the close.

    Each session is kept as its cumulative volume by minute since the open
    (only the last ``SLOT_SESSIONS`` sessions are kept, so memory stays flat).
    ``ratio`` compares the slot ending ``to_close`` minutes before the close
    with the same slot of the previous sessions; NaN until there are
    ``SLOT_SESSIONS`` of them.
    """

    def __init__(self, sessions: int = SLOT_SESSIONS, minutes: int = SLOT_MINUTES) -> None:
        self.minutes = minutes
        self.history: deque[tuple[np.ndarray, int]] = deque(maxlen=sessions)

    def add_session(self, cumulative: np.ndarray, length: int) -> None:
        """A finished session: cumulative volume at each minute since the open (index 0 = the open)."""
        self.history.append((cumulative, length))

    def ratio(self, cumulative: Sequence[float], elapsed: int, length: int) -> float:
        """``cumulative[m]``: today's volume up to minute m; ``elapsed``: minutes since the open now."""
        if len(self.history) < (self.history.maxlen or 0) or elapsed < self.minutes:
            return math.nan
        to_close = length - elapsed
        today = float(cumulative[elapsed]) - float(cumulative[elapsed - self.minutes])
        past = []
        for cum, past_length in self.history:
            end = past_length - to_close
            if end < self.minutes or end >= len(cum):
                return math.nan
            past.append(float(cum[end]) - float(cum[end - self.minutes]))
        average = math.fsum(past) / len(past)
        return today / average if average > 0.0 else math.nan


def cumulative_by_minute(col: np.ndarray, volume: np.ndarray, length: int) -> np.ndarray:
    """Cumulative volume at each minute since the open (index m = after the first m minutes)."""
    per_minute = np.zeros(length + 1)
    np.add.at(per_minute, np.minimum(col, length - 1) + 1, volume)
    return np.cumsum(per_minute)
