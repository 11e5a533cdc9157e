"""What the fast backtest path of ``vwap_close_fade`` precomputes, and which bars it must feed.

The playbook can only act on the first bar of a session where
:func:`~strategies.vwap_close_fade.fade_signal` fires inside the window of an
eligible session (it trades once a day). Its stop and target are fixed at
that bar, but what happens after it (the entry's fill, the bracket, a
market-on-close exit whose session's last minute is missing from the data)
is left to backtrader on exactly the bars the plain path would show it.
Everything else only feeds the VWAP sums, which numpy computes here for all
bars at once, with the same arithmetic as the bar-by-bar indicator. So the
fast path feeds backtrader:

* in a session where the signal fires (on an eligible day, inside the
  window): every bar from the first firing bar to the session's last bar in
  the data (or, when the broker's slippage is given, to two bars after the
  one where its stop or target is certainly reached, see
  :func:`certain_exit`, and the session's last bar), and the next session's
  first two bars;
* for every other session: its last bar in the data only.

Before the first firing bar of a session the playbook is flat (never held
overnight) and has nothing to decide; from it on, every bar is fed. So fills,
prices and equity are those of the plain path by construction, on any valid
input, gaps included: missing minutes, a missing last bar, a file ending
mid-session (the tests check it on generated gappy data, and
``engine.every_bar: true`` runs the plain path for anyone to compare).
"""
from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Iterable

import numpy as np
import pandas as pd

from strategies import market_calendar as cal
from strategies.session_vwap import (SlotVolume, cumulative_by_minute, reference_price, session_layout,
                                     session_vwap)
from strategies.wall_clock import new_york_ns
from strategies.vwap_close_fade import (REFERENCE_MINUTES, WINDOW_MINUTES, VwapCloseFadeParams, eligible_reasons,
                                        fade_signals)

OPEN_MINUTE = 9 * 60 + 30


class SessionGrid:
    """Per-bar session row and minute, and per-session facts, of a 1-minute bar table.

    The grid of the index laid out last is kept (while that index lives) and given again for the same
    index: the fast feed and the report's windows lay out the same 2 million bars. Its arrays are
    read-only, so a caller cannot change what the next one gets.
    """

    _last: tuple[weakref.ref, dict] | None = None

    def __init__(self, index: pd.DatetimeIndex):
        last = SessionGrid._last
        if last is not None and last[0]() is index:
            self.__dict__.update(last[1])
            return
        self._lay_out(index)
        for value in self.__dict__.values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        self._by_venue: dict[str, np.ndarray] = {}
        self._eligible: dict[str, np.ndarray] = {}
        SessionGrid._last = (weakref.ref(index), self.__dict__)

    def _lay_out(self, index: pd.DatetimeIndex) -> None:
        stamps = new_york_ns(index)   # the intraday check's, for the same index (read-only)
        # In place (the index is the run's biggest array after the bars): minutes since midnight, then
        # since the open; the day's midnight.
        since_midnight = stamps % 86_400_000_000_000
        day_ns = stamps - since_midnight                 # midnight of each bar's day
        minute = since_midnight
        minute //= 60_000_000_000
        minute -= OPEN_MINUTE
        del stamps, since_midnight
        row, col, self.width = session_layout(day_ns, minute)
        # Per-bar session rows and minutes fit in 32 bits (a session has at most 390 minutes): half the
        # memory of the two arrays every per-bar step indexes with; the same values.
        self.row, self.col = row.astype(np.int32), col.astype(np.int32)
        del row, col, minute
        starts = np.flatnonzero(np.r_[True, day_ns[1:] != day_ns[:-1]])
        self.session_start = starts
        self.session_end = np.r_[starts[1:], len(day_ns)] - 1
        dates = day_ns[starts].astype("datetime64[ns]").astype("datetime64[D]")
        self.days: list[dt.date] = dates.astype(object).tolist()
        self.length = _session_lengths(dates, self.days)

    def trigger_window(self, venue: str) -> np.ndarray:
        """:func:`trigger_window` for playbooks at ``venue`` (the same for all of them: made once)."""
        if venue not in self._by_venue:
            first = self.length - WINDOW_MINUTES
            last = self.length - np.array([cal.moc_minutes_before_close(d, venue) for d in self.days],
                                          dtype=np.int64) - 2
            window = (self.col >= first[self.row]) & (self.col <= last[self.row])
            window.setflags(write=False)
            self._by_venue[venue] = window
        return self._by_venue[venue]

    def eligible(self, p: VwapCloseFadeParams) -> np.ndarray:
        """Per session: True if ``eligible_reasons`` gives it reasons under ``p`` (made once per parameter set)."""
        key = f"{type(p).__qualname__}:{p.model_dump_json()}"
        if key not in self._eligible:
            eligible = np.array([bool(eligible_reasons(d, p)) for d in self.days], dtype=bool)
            eligible.setflags(write=False)
            self._eligible[key] = eligible
        return self._eligible[key]


def _session_lengths(dates: np.ndarray, days: list[dt.date]) -> np.ndarray:
    """Minutes from the open to the official close of each session (datetime64[D] ``dates``), all at once."""
    found, closes_utc = cal.sessions_among(dates)
    if len(found) != len(dates):   # a day NYSE did not trade: session_close names it
        closes = [cal.session_close(d) for d in days]
        return np.array([(c.hour * 60 + c.minute) - OPEN_MINUTE for c in closes], dtype=np.int64)
    wall = pd.DatetimeIndex(closes_utc.astype("datetime64[ns]")).tz_localize("UTC").tz_convert(cal.NEW_YORK)
    return (wall.tz_localize(None).asi8 % 86_400_000_000_000) // 60_000_000_000 - OPEN_MINUTE


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
    # Without the volume condition nothing reads the ratio: one NaN seen at every bar, not an array of them.
    ratio = np.full(len(close), np.nan) if slot_volume else np.broadcast_to(np.float64(np.nan), close.shape)
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
    """Per bar: True if it lies inside its session's trigger window (see the strategy); read-only."""
    return grid.trigger_window(p.venue)


def bars_to_feed(bars: pd.DataFrame, lines: dict[str, np.ndarray], params: Iterable[VwapCloseFadeParams],
                 grid: SessionGrid | None = None, slippage: float | None = None) -> np.ndarray:
    """Mask of the bars the fast path feeds for playbooks with ``params`` (see the module docstring).

    ``slippage`` (a fraction, the broker's adverse slippage on the entry's fill): when given, a session's
    bars after its trade has certainly left are not fed either (see :func:`certain_exit`).
    """
    grid = grid or SessionGrid(bars.index)
    n = len(bars)
    close = bars["close"].to_numpy(dtype="float64")
    keep = np.zeros(n, dtype=bool)
    keep[grid.session_end] = True
    for p in params:
        eligible = grid.eligible(p)
        # The signal only where it can count (inside an eligible session's window, a few percent of the
        # bars): the same comparisons on those bars, without a float temporary per bar of the file.
        where = np.flatnonzero(trigger_window(grid, p) & eligible[grid.row])
        signal = np.zeros(n, dtype=np.int8)
        signal[where] = fade_signals(close[where], lines["vwap"][where], lines["sigma"][where],
                                     lines["ref_price"][where], lines["slot_ratio"][where], p)
        positions = where[signal[where] != 0]
        rows, first = np.unique(grid.row[positions], return_index=True)
        first_signal = np.full(len(grid.days), n, dtype=np.int64)
        first_signal[rows] = positions[first]
        last_needed = grid.session_end.copy()
        if slippage is not None and len(rows):
            last_needed = np.minimum(last_needed, certain_exit(bars, lines, grid, first_signal, signal, p, slippage)
                                     + EXIT_MARGIN_BARS)
        for r in rows:   # the first signal to the exit, session by session (a session with a signal)
            keep[first_signal[r]:last_needed[r] + 1] = True
        following = grid.session_start[rows[rows + 1 < len(grid.days)] + 1]
        keep[following] = True                            # the next session's first two bars
        keep[np.minimum(following + 1, n - 1)] = True
    return keep


#: Bars fed after the one on which a trade has certainly left (its exits' cancellations, the recorder's row).
EXIT_MARGIN_BARS = 2
#: Relative slack on every price bound of :func:`certain_exit`, far above float rounding.
PRICE_SLACK = 1e-7


def certain_exit(bars: pd.DataFrame, lines: dict[str, np.ndarray], grid: SessionGrid, first_signal: np.ndarray,
                 signal: np.ndarray, p: VwapCloseFadeParams, slippage: float) -> np.ndarray:
    """Per session: a bar by which the trade of its first signal has certainly left (else the session's last bar).

    The entry (decided at the first signal ``s``, the close ``c``) fills at the open of bar ``s + 1`` with
    at most ``slippage`` either way; its stop and VWAP target (:func:`exit_prices` at ``s``) move by the
    fill minus ``c`` and are live from bar ``s + 2`` on (backtrader activates a bracket's exits on the bar
    after the entry's fill). The first bar from there whose low (high) reaches the stop or the target for
    every fill price in that range, with slack, certainly fills one of them, and its siblings are cancelled
    with it: from then on the playbook is flat and done for the session (one trade a day). Any bar found
    here is at or after the real exit, so feeding up to it (and :data:`EXIT_MARGIN_BARS` more) changes nothing.
    A signal that does not trade (a filter, a tiny size, a rejected entry) only makes the bound unneeded.
    """
    n = len(bars)
    last = grid.session_end.copy()
    traded = np.flatnonzero((first_signal < n) & (first_signal + 1 <= grid.session_end))
    if not len(traded):
        return last
    s = first_signal[traded]
    direction = signal[s].astype("float64")
    opens, high, low, close = (bars[c].to_numpy(dtype="float64") for c in ("open", "high", "low", "close"))
    c, vwap, sigma = close[s], lines["vwap"][s], lines["sigma"][s]
    z_stop = vwap - direction * p.stop_z * sigma
    pct_stop = c * (1.0 - direction * p.stop_pct / 100.0)
    stop = np.where(direction > 0, np.maximum(z_stop, pct_stop), np.minimum(z_stop, pct_stop))
    slack = PRICE_SLACK * np.abs(c)
    fill_low = opens[s + 1] * (1.0 - slippage) - slack
    fill_high = opens[s + 1] * (1.0 + slippage) + slack
    # The exits' prices for the lowest and the highest possible fill.
    stop_low, stop_high = stop + fill_low - c - slack, stop + fill_high - c + slack
    target_low, target_high = vwap + fill_low - c - slack, vwap + fill_high - c + slack
    # The bars on which each traded session's exits are live: from s + 2 to the session's last bar, in order
    # (built from the sessions, a few hundred, not from masks over every bar of the file).
    first_live = np.minimum(s + 2, grid.session_end[traded] + 1)
    counts = grid.session_end[traded] + 1 - first_live
    t = np.repeat(np.arange(len(traded)), counts)
    i = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(first_live, counts)
    long = direction[t] > 0
    hit = np.where(long, low[i] <= stop_low[t], high[i] >= stop_high[t])
    if p.exit_at_vwap:
        hit |= np.where(long, high[i] >= target_high[t], low[i] <= target_low[t])
    hit &= np.isfinite(stop[t])
    rows = grid.row[i[hit]]
    np.minimum.at(last, rows, i[hit])
    return last


def session_windows(bars: pd.DataFrame, p: VwapCloseFadeParams) -> pd.DataFrame:
    """The report's baseline: per eligible session, the span the playbook could hold, vectorized.

    The earliest fill is the open of the bar after the session's first bar
    inside the trigger window (15:31 on a regular day); the position is flat
    by the close, valued at the close of the session's last bar in the data
    (as the market-on-close exit). ``hold``: long over that span;
    ``unconditional``: the playbook's side without its z and volume filters,
    i.e. fading the move from the reference price (the close of the bar
    ending at 15:00) to the close of that first window bar (0 if it did not move).
    Sessions without a bar inside the window, or none after it, are left out.
    """
    from strategies.strategy_base import FlowbotStrategy as Base

    columns = list(Base.WINDOW_COLUMNS)
    if not len(bars):
        return pd.DataFrame(columns=columns)
    grid = SessionGrid(bars.index)
    n, sessions = len(bars), len(grid.days)
    opens, close = bars["open"].to_numpy(dtype="float64"), bars["close"].to_numpy(dtype="float64")
    eligible = grid.eligible(p)
    position = np.arange(n)
    in_window = trigger_window(grid, p)
    first = np.full(sessions, n, dtype=np.int64)
    np.minimum.at(first, grid.row[in_window], position[in_window])
    is_reference = grid.col + 1 <= grid.length[grid.row] - REFERENCE_MINUTES
    reference = np.full(sessions, -1, dtype=np.int64)
    np.maximum.at(reference, grid.row[is_reference], position[is_reference])
    last = grid.session_end
    ok = eligible & (first < n) & (reference >= 0)
    ok[ok] &= first[ok] + 1 <= last[ok]
    rows = np.flatnonzero(ok)
    decision, entry = first[rows], first[rows] + 1
    hold = close[last[rows]] / opens[entry] - 1.0
    side = -np.sign(close[decision] - close[reference[rows]])
    days = [grid.days[r] for r in rows]
    return pd.DataFrame({"window": [d.isoformat() for d in days], "year": [d.year for d in days],
                         "first_session": days, "entry_at": "open", "last_session": days,
                         "hold": hold, "unconditional": side * hold}, columns=columns)
