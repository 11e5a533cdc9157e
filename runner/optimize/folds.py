"""Walk-forward folds by playbook window: which trades and which equity rows a fold's years hold.

A fold names years (``train: [2005, 2010]``, ``test: [2011, 2011]``). They are the years of the
playbook's windows, as in the backtest's per-year figures (docs/metrics.md): a trade belongs to the
year of the window whose span holds its entry session (runner.report.metrics.trade_window_years), so
january_snapback's trade bought at the last December close of 2011 and sold in January 2012 belongs
to 2011's window, wherever its exit falls, and december_fade's trade sold on the year's last session
is in that year.

A fold's equity rows follow the same years: year Y ends at the later of December 31 of Y and the
last session of Y's windows (january_snapback's window Y closes in January Y+1). A fold of the years
``first..last`` runs from the close that ends ``first - 1`` (its value is the base) to the close that
ends ``last``, so consecutive folds meet without a gap or an overlap, and a trade's P&L lands in the
same fold as the trade. For playbooks whose windows end inside their calendar year (december_fade,
quarter_end_fade, vwap_close_fade) the folds are calendar years.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from runner.report.metrics import NEW_YORK, performance, trade_window_years
from strategies.registry import STRATEGIES

SPAN_COLUMNS = ["strategy", "year", "first_session", "last_session"]


def run_windows(cfg, bars: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The windows of every playbook ``cfg`` runs: strategy (display name), year, first and last session."""
    rows = []
    for strategy in cfg.active_strategies():
        instrument = bars.get(strategy.symbol)
        if instrument is None or not len(instrument):
            continue
        playbook, params = STRATEGIES[strategy.name], strategy.typed_params()
        if hasattr(playbook, "holding_spans"):
            # Daily playbooks: the spans are calendar arithmetic, no need to measure returns over the bars.
            # Like holding_windows, only the windows the bars cover from their first to their last session.
            years = instrument.index.year
            first_bar, last_bar = instrument.index[0].date(), instrument.index[-1].date()
            for year in range(int(years.min()) - 1, int(years.max()) + 1):
                try:
                    spans = playbook.holding_spans(year, params)
                except (ValueError, IndexError, KeyError):   # the calendar does not reach that year
                    continue
                rows += [(strategy.display_name, year, span[0], span[2]) for _, span in spans
                         if first_bar <= span[0] and span[2] <= last_bar]
        else:
            windows = playbook.holding_windows(params, instrument)
            rows += [(strategy.display_name, int(w.year), w.first_session, w.last_session)
                     for w in windows.itertuples(index=False)]
    return pd.DataFrame(rows, columns=SPAN_COLUMNS)


def trade_years(trades: pd.DataFrame, windows: pd.DataFrame) -> np.ndarray:
    """Per trade, its window's year (each trade against its own playbook's windows)."""
    years = np.zeros(len(trades), dtype=int)
    if not len(trades):
        return years
    names = trades["strategy"].to_numpy() if "strategy" in trades else np.full(len(trades), None)
    for name in pd.unique(names):
        mine = names == name
        spans = windows[windows["strategy"] == name].reset_index(drop=True) if name is not None else windows
        years[mine] = trade_window_years(trades[mine].reset_index(drop=True), spans)
    return years


def year_end(windows: pd.DataFrame, year: int) -> dt.date:
    """The last session date of ``year``: December 31, or the last session of its windows if later."""
    return _year_end(_window_ends(windows), year)


def _window_ends(windows: pd.DataFrame) -> dict[int, dt.date]:
    """Per window year, the last session of its windows."""
    ends: dict[int, dt.date] = {}
    for year, last in zip(windows["year"], windows["last_session"]) if len(windows) else ():
        last = pd.Timestamp(last).date()
        ends[int(year)] = max(ends.get(int(year), last), last)
    return ends


def _year_end(ends: dict[int, dt.date], year: int) -> dt.date:
    calendar = dt.date(year, 12, 31)
    last = ends.get(year)
    return calendar if last is None or last < calendar else last


_DAY_NS = 86_400_000_000_000
_EPOCH = dt.date(1970, 1, 1)


def _day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


class FoldSlicer:
    """Cuts one run's equity and trades into the folds' years (see the module docstring)."""

    def __init__(self, equity: pd.DataFrame, trades: pd.DataFrame, windows: pd.DataFrame):
        self.equity, self.trades, self.windows = equity, trades, windows
        stamps = pd.DatetimeIndex(pd.to_datetime(equity["time"], utc=True)).tz_convert(NEW_YORK)
        self.stamps = stamps
        # New York calendar days as numbers (days since 1970-01-01), cheaper to compare than dates.
        self.days = stamps.tz_localize(None).as_unit("ns").asi8 // _DAY_NS if len(stamps) else np.array([], dtype="int64")
        self.trade_years = trade_years(trades, windows)
        self.ends = _window_ends(windows)

    def rows(self, first: int, last: int) -> tuple[int, int] | None:
        """(start, stop) row indices of the years ``first..last``: start is the base row (the close
        before them), stop one past their last row; None if no row falls inside."""
        after, until = (_day_number(_year_end(self.ends, y)) for y in (first - 1, last))
        inside = np.flatnonzero((self.days > after) & (self.days <= until))
        if len(inside) == 0:
            return None
        return max(int(inside[0]) - 1, 0), int(inside[-1]) + 1

    def part(self, first: int, last: int) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """(equity rows from the base row on, trades of those window years), or None if empty."""
        span = self.rows(first, last)
        if span is None:
            return None
        mine = (self.trades[(self.trade_years >= first) & (self.trade_years <= last)]
                if len(self.trades) else self.trades)
        return self.equity.iloc[span[0]:span[1]].reset_index(drop=True), mine

    def metrics(self, first: int, last: int) -> dict:
        """The run's metrics over the years ``first..last`` (empty if no equity row falls inside)."""
        part = self.part(first, last)
        return {} if part is None else performance(*part)
