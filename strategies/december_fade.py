"""Playbook A: fade a late-December rally that rebalancing flows will sell into (short).

Trigger, on a completed daily bar inside the window (2nd session after Dec
OPEX to the second-to-last session of the year), all of:

1. rebalancing pressure: with a bond feed, the drifted equity weight of a
   ``target_equity_weight`` mix exceeds the target by ``drift_min_pct`` points;
   without one, the year-to-date total return is at least ``ytd_min_pct``;
2. a rally: the close is ``rally_pct`` above the Dec OPEX close;
3. optionally, volume at least ``volume_ratio_min`` times its 20-session median,
   and no listed macro event in the rest of the window.

Entry at the next open (or next close); exits: the last December session's
close (time exit), a stop ``stop_atr`` ATRs above, a target retracing
``target_retrace_pct`` of the rally toward the OPEX close, an optional trailing stop.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from strategies.conditions import Condition, at_least
from strategies.market_calendar import december_opex_session, nth_session_of_month, session_offset
from strategies.params import backtrader_params
from strategies.playbook_params import DecemberFadeParams
from strategies.opex_fade import OpexRallyFade
from strategies.rebalance import drifted_equity_weight


def december_window(year: int) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(Dec OPEX, first session, last entry session, exit session) of ``year``'s window."""
    opex = december_opex_session(year)
    return opex, session_offset(opex, 2), nth_session_of_month(year, 12, -2), nth_session_of_month(year, 12, -1)


class DecemberFade(OpexRallyFade):
    Params = DecemberFadeParams
    extra_feeds = ("bonds",)
    params = backtrader_params(DecemberFadeParams)
    window_feed = True

    def window_of(self, today: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
        return december_window(today.year)

    def window_key(self, today: dt.date) -> int:
        return today.year

    def in_season(self, today: dt.date) -> list[Condition]:
        return [] if today.month == 12 else [Condition("December", False, None, "the window is in December")]

    def pressure(self) -> Condition:
        """With a bonds feed: the year-to-date drift of the target mix; without: the equity return."""
        cfg = self.config
        t = cfg.target_equity_weight
        equity_ytd = self.year_to_date()
        bonds = self.extra.get("bonds")
        bond_ytd = None if bonds is None or equity_ytd is None else self.year_to_date(bonds)
        if bonds is not None and (equity_ytd is None or bond_ytd is not None):
            if equity_ytd is None:
                return Condition(f"year-to-date drift of {t:.0%}/{1 - t:.0%}, pts", False, None,
                                 f">= {cfg.drift_min_pct:g}", note="year-to-date unknown (data starts mid-year)")
            drift = (drifted_equity_weight(t, equity_ytd, bond_ytd) - t) * 100.0
            return at_least(f"year-to-date drift of {t:.0%}/{1 - t:.0%}, pts", drift, cfg.drift_min_pct,
                            note=f"equity weight drifted {drift:+.2f} pts (equities {equity_ytd:+.1%}, "
                                 f"bonds {bond_ytd:+.1%})")
        if equity_ytd is None:
            return Condition("year-to-date equity return, %", False, None, f">= {cfg.ytd_min_pct:g}",
                             note="year-to-date unknown (data starts mid-year)")
        return at_least("year-to-date equity return, %", equity_ytd * 100.0, cfg.ytd_min_pct,
                        note=f"equities {equity_ytd:+.1%} year to date")

    def extra_conditions(self, today: dt.date, exit_day: dt.date) -> list[Condition]:
        cfg = self.config
        out = []
        if cfg.volume_ratio_min is not None:
            out.append(at_least("volume / its 20-session median", self._volume_ratio(), cfg.volume_ratio_min))
        if cfg.macro_events:
            events = [e for e in cfg.macro_events if today < e <= exit_day]
            out.append(Condition("no macro event before the exit", not events, None,
                                 f"none after {today} up to {exit_day}",
                                 note=", ".join(map(str, events))))
        return out

    def _volume_ratio(self) -> float | None:
        n = min(len(self.bars) - 1, 20)
        if n < 5:
            return None
        history = np.array([self.bars.volume[-i] for i in range(1, n + 1)])
        median = float(np.median(history))
        return float(self.bars.volume[0]) / median if median > 0 else None

    @classmethod
    def holding_span(cls, year: int, params: DecemberFadeParams) -> tuple[dt.date, str, dt.date]:
        # Earliest decision: the close of OPEX+2; so the earliest fill is OPEX+3's open (or close).
        _opex, first_decision, _last_entry, exit_day = december_window(year)
        return session_offset(first_decision, 1), "open" if params.entry == "next_open" else "close", exit_day

    @classmethod
    def active_window(cls, year: int, params: DecemberFadeParams) -> tuple[dt.date, dt.date]:
        # decide() acts from OPEX+2 to the second-to-last session; the time exit is the last one.
        _opex, first, _last_entry, exit_day = december_window(year)
        return first, exit_day

    @classmethod
    def lookback_bars(cls, params: DecemberFadeParams) -> int:
        # The Dec OPEX close (two sessions before the window), and with the volume filter the
        # 20 sessions before the decision.
        return 21 if params.volume_ratio_min is not None else 3
