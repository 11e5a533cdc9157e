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
from typing import Literal

import numpy as np

from strategies.market_calendar import december_opex_session, nth_session_of_month, session_offset
from strategies.params import DailyPlaybookParams, backtrader_params, param
from strategies.opex_fade import OpexRallyFade
from strategies.rebalance import drifted_equity_weight


class DecemberFadeParams(DailyPlaybookParams):
    rally_pct: float = param(1.5, "close above the Dec OPEX close, percent", explore=(0.75, 3.0), gt=0, le=20)
    target_equity_weight: float = param(0.6, "equity weight of the rebalanced mix", gt=0, lt=1)
    drift_min_pct: float = param(2.5, "drifted equity weight above target, percentage points (needs a bonds feed)",
                                 explore=(1.5, 4.0), ge=0, le=20)
    ytd_min_pct: float = param(15.0, "year-to-date equity return without a bonds feed, percent",
                               explore=(5.0, 25.0), ge=-50, le=200)
    volume_ratio_min: float | None = param(None, "volume / 20-session median at least this; null = off",
                                           explore=(1.0, 2.0), gt=0, le=10)
    macro_events: list[dt.date] = param([], "dates of macro events; no entry if one falls in the rest of the window")
    entry: Literal["next_open", "next_close"] = param("next_open", "entry order: next session's open or close (MOC)")
    stop_atr: float = param(1.5, "stop distance in ATRs above the entry reference", explore=(1.0, 2.5), gt=0, le=10)
    target_retrace_pct: float | None = param(50.0, "target: retracement of the rally toward the OPEX close, percent; "
                                             "null = no target", explore=(50.0, 100.0), gt=0, le=150)


def december_window(year: int) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(Dec OPEX, first session, last entry session, exit session) of ``year``'s window."""
    opex = december_opex_session(year)
    return opex, session_offset(opex, 2), nth_session_of_month(year, 12, -2), nth_session_of_month(year, 12, -1)


class DecemberFade(OpexRallyFade):
    Params = DecemberFadeParams
    extra_feeds = ("bonds",)
    params = backtrader_params(DecemberFadeParams)
    window_feed = True

    def decide(self, today: dt.date) -> None:
        if today.month != 12 or today.year in self.traded_windows:
            return
        cfg = self.config
        opex, first, last, exit_day = december_window(today.year)
        if not first <= today <= last:
            return
        found = self.rally_over(opex, today.year, skipping=str(today.year))
        if found is None:
            return
        close, opex_close, rally = found
        pressure, pressure_ok = self._rebalance_pressure()
        if not pressure_ok:
            self.log.debug(f"{today}: rally {rally:.2f}% but no rebalancing pressure ({pressure})")
            return
        if cfg.volume_ratio_min is not None and not self._volume_spike():
            self.log.debug(f"{today}: rally {rally:.2f}% but volume below {cfg.volume_ratio_min}x its median")
            return
        if any(today < event <= exit_day for event in cfg.macro_events):
            self.log.debug(f"{today}: rally {rally:.2f}% but a macro event falls before {exit_day}")
            return
        self.enter_fade(today, close, opex_close, exit_day, window=today.year,
                        why=f"rally {rally:.2f}% over the OPEX close {opex_close:.2f}, {pressure}")

    def _rebalance_pressure(self) -> tuple[str, bool]:
        cfg = self.config
        equity_ytd = self.year_to_date()
        if equity_ytd is None:
            return "year-to-date unknown (data starts mid-year)", False
        bonds = self.extra.get("bonds")
        if bonds is not None:
            bond_ytd = self.year_to_date(bonds)
            if bond_ytd is not None:
                weight = drifted_equity_weight(cfg.target_equity_weight, equity_ytd, bond_ytd)
                drift = (weight - cfg.target_equity_weight) * 100.0
                text = f"equity weight drifted {drift:+.2f} pts (equities {equity_ytd:+.1%}, bonds {bond_ytd:+.1%})"
                return text, drift >= cfg.drift_min_pct
        text = f"equities {equity_ytd:+.1%} year to date"
        return text, equity_ytd * 100.0 >= cfg.ytd_min_pct

    def _volume_spike(self) -> bool:
        n = min(len(self.bars) - 1, 20)
        if n < 5:
            return False
        history = np.array([self.bars.volume[-i] for i in range(1, n + 1)])
        median = float(np.median(history))
        return median > 0 and float(self.bars.volume[0]) >= self.config.volume_ratio_min * median

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
