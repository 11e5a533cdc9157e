"""The spans a daily playbook can hold, per window: the report's comparison with simply holding.

A playbook says, per year, the span of each of its windows (``holding_span``:
its earliest possible fill, at a session's open or close, to the session by
whose close it is flat); ``holding_windows`` measures, over the bars, holding
the instrument long over exactly that span and taking the playbook's side of it.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from strategies.params import PlaybookParams

WINDOW_COLUMNS = ("window", "year", "first_session", "entry_at", "last_session", "hold", "unconditional")


def session_dates(bars: pd.DataFrame) -> pd.DatetimeIndex:
    """The bars' sessions as naive midnights (what ``span_return`` looks ``first`` and ``last`` up in)."""
    return bars.index.tz_localize(None).normalize()


def span_return(bars: pd.DataFrame, first: dt.date, entry_at: str, last: dt.date,
                dates: pd.DatetimeIndex | None = None) -> float | None:
    """From ``first``'s open (or close) to ``last``'s close; None unless bars have both sessions.
    ``dates``: ``session_dates(bars)``, when the caller looks up many spans in the same bars."""
    dates = session_dates(bars) if dates is None else dates
    start = np.flatnonzero(dates == pd.Timestamp(first))
    end = np.flatnonzero(dates == pd.Timestamp(last))
    if not len(start) or not len(end):
        return None
    price = bars["open" if entry_at == "open" else "close"].to_numpy()[start[0]]
    return float(bars["close"].to_numpy()[end[-1]] / price - 1.0)



class HoldingWindows:
    """Mixin of the daily playbooks (needs ``direction``, +1 long or -1 short)."""

    @classmethod
    def holding_span(cls, year: int, params: PlaybookParams) -> tuple[dt.date, str, dt.date] | None:
        """The span the playbook can hold in its ``year`` window: (first session, "open" or "close" of
        it: its earliest possible fill, last session: flat by its close)."""
        return None

    @classmethod
    def holding_spans(cls, year: int, params: PlaybookParams) -> list[tuple[int, tuple[dt.date, str, dt.date]]]:
        """Every window of ``year`` as (window key, span): one a year unless a playbook has more."""
        span = cls.holding_span(year, params)
        return [] if span is None else [(year, span)]

    @classmethod
    def baseline_window(cls, year: int, params: PlaybookParams) -> tuple[dt.date, dt.date] | None:
        """The sessions ``year``'s windows cover, first to last (the report's label for the year)."""
        spans = cls.holding_spans(year, params)
        return (spans[0][1][0], spans[-1][1][2]) if spans else None

    @classmethod
    def holding_windows(cls, params: PlaybookParams, bars: pd.DataFrame) -> pd.DataFrame:
        """One row per window whose span the bars cover (see FlowbotStrategy.holding_windows)."""
        rows = []
        if len(bars):
            years = bars.index.year
            dates = session_dates(bars)
            for year in range(int(years.min()) - 1, int(years.max()) + 1):
                try:
                    spans = cls.holding_spans(year, params)
                except (ValueError, IndexError, KeyError):   # the calendar does not reach that year
                    continue
                for key, span in spans:
                    hold = span_return(bars, *span, dates=dates)
                    if hold is not None:
                        rows.append((key, year, span[0], span[1], span[2], hold, cls.direction * hold))
        return pd.DataFrame(rows, columns=list(WINDOW_COLUMNS))
