"""The signals as backtrader indicators: computed bar by bar, each bar from the past only.

They match the pure functions of ``periods``, ``drift``, ``volume`` and
``rotation`` on the same bars (the tests hold them to it). Feeds with an
``adj_close`` line are read on a total-return basis.
"""
from __future__ import annotations

import math

import backtrader as bt
import numpy as np

from strategies.market_calendar import sessions_from_end_of_month
from strategies.signals.periods import is_first_session_of_period, period_key
from strategies.signals.volume import _month_number, reference_months


def total_return_line(data):
    """The feed's total-return close line (``adj_close`` when the feed has one)."""
    return getattr(data.lines, "adj_close", data.close)


class PeriodToDate:
    """Tracks one feed's period base; ``value()`` is the period-to-date return of its current bar."""

    def __init__(self, data, period: str):
        self.data, self.period = data, period
        self.close = total_return_line(data)
        self.base, self.key = math.nan, None

    def update(self) -> float:
        day = self.data.datetime.date(0)
        key = period_key(day, self.period)
        if key != self.key:
            if self.key is None and len(self.data) == 1:
                ratio = float(self.close[0]) / float(self.data.close[0])
                self.base = float(self.data.open[0]) * ratio if is_first_session_of_period(day, self.period) \
                    else math.nan
            else:
                self.base = float(self.close[-1])
            self.key = key
        return float(self.close[0]) / self.base - 1.0


class PeriodReturn(bt.Indicator):
    """The feed's total return over the period to date (fraction; NaN when the data starts mid-period)."""

    lines = ("ret",)
    params = (("period", "year"),)

    def __init__(self):
        self._leg = PeriodToDate(self.data, self.p.period)

    def next(self):
        self.lines.ret[0] = self._leg.update()


class PeriodDrift(bt.Indicator):
    """Drift of a ``target`` equity mix over the period to date: datas (equity, bonds).

    Lines: ``equity_return`` and ``bond_return`` (fractions), ``weight``, ``drift`` (points).
    """

    lines = ("equity_return", "bond_return", "weight", "drift")
    params = (("period", "year"), ("target", 0.6))
    plotinfo = dict(subplot=True)

    def __init__(self):
        self._legs = [PeriodToDate(self.datas[0], self.p.period), PeriodToDate(self.datas[1], self.p.period)]

    def next(self):
        equity_return, bond_return = (leg.update() for leg in self._legs)
        t = self.p.target
        equities = t * (1.0 + equity_return)
        weight = equities / (equities + (1.0 - t) * (1.0 + bond_return))
        self.lines.equity_return[0], self.lines.bond_return[0] = equity_return, bond_return
        self.lines.weight[0], self.lines.drift[0] = weight, (weight - t) * 100.0


class RelativeStrength(bt.Indicator):
    """N-session relative strength of datas[0] against datas[1], percent."""

    lines = ("rs",)
    params = (("sessions", 10),)

    def __init__(self):
        n = self.p.sessions
        long, short = total_return_line(self.datas[0]), total_return_line(self.datas[1])
        self.lines.rs = 100.0 * ((long / long(-n)) / (short / short(-n)) - 1.0)


class SameSessionVolume(bt.Indicator):
    """Volume over its median on the same session from the month end of earlier (quarter-end) months."""

    lines = ("ratio",)
    params = (("lookback", 6), ("period", "month"), ("min_samples", 3))

    def __init__(self):
        self._seen: dict[tuple[int, int], float] = {}

    def next(self):
        day = self.data.datetime.date(0)
        volume = float(self.data.volume[0])
        k = sessions_from_end_of_month(day)
        history = [self._seen[(m, k)] for m in reference_months(day.year, day.month, self.p.lookback, self.p.period)
                   if (m, k) in self._seen] if k else []
        median = float(np.median(history)) if history else math.nan
        ok = len(history) >= self.p.min_samples and median > 0
        self.lines.ratio[0] = volume / median if ok else math.nan
        if k:
            self._seen[(_month_number(day.year, day.month), k)] = volume
