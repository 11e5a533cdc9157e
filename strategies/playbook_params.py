"""The built-in playbooks' parameter models: names, types, valid ranges, defaults and sweep ranges.

Kept apart from the playbooks' code, so that validating a config or listing the
playbooks imports no backtrader, pandas or numpy; each playbook module takes its
model from here (``DecemberFade.Params is DecemberFadeParams``).
"""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import field_validator, model_validator

from strategies.params import DailyPlaybookParams, PlaybookParams, param
from strategies.signals.filter_specs import SignalFilter

QUARTER_END_MONTHS = (3, 6, 9, 12)


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


class JanuarySnapbackParams(DailyPlaybookParams):
    five_day_return_pct: float = param(-2.0, "trigger: 5-session return at most this, percent",
                                       explore=(-4.0, -1.0), lt=0, ge=-30)
    opex_return_pct: float = param(-3.0, "trigger: return since the Dec OPEX close at most this, percent",
                                   explore=(-6.0, -2.0), lt=0, ge=-50)
    entry: Literal["last_close", "next_open"] = param(
        "last_close", "last_close: MOC at the last December close (decided on the previous close); "
        "next_open: the first January open (decided on the last December close)")
    hold_sessions: int = param(5, "time exit at the close of this January session", explore=(2, 10), ge=1, le=15)
    stop_atr: float = param(2.0, "stop distance in ATRs below the entry reference", explore=(1.5, 3.0), gt=0, le=10)
    target: Literal["retracement", "atr", "nearer", "none"] = param(
        "retracement", "target: full retracement of the December decline, +target_atr ATRs, the nearer of both, or none")
    target_atr: float = param(1.5, "target distance in ATRs when target is atr or nearer", gt=0, le=10)


class QuarterEndFadeParams(DailyPlaybookParams):
    quarters: list[int] = param([3, 6, 9, 12], "quarter-end months to trade (3, 6, 9, 12)")
    rally_pct: float = param(1.5, "close above the quarter-end month's OPEX close, percent",
                             explore=(0.75, 3.0), gt=0, le=20)
    target_equity_weight: float = param(0.6, "equity weight of the rebalanced mix", gt=0, lt=1)
    drift_min_pct: float = param(1.0, "quarter-to-date drift of the equity weight above target, points "
                                 "(needs a bonds feed)", explore=(0.5, 3.0), ge=-20, le=20)
    qtd_min_pct: float = param(5.0, "quarter-to-date equity return without a bonds feed, percent",
                               explore=(2.0, 10.0), ge=-50, le=100)
    entry: Literal["next_open", "next_close"] = param("next_open", "entry order: next session's open or close (MOC)")
    stop_atr: float = param(1.5, "stop distance in ATRs above the entry reference", explore=(1.0, 2.5), gt=0, le=10)
    target_retrace_pct: float | None = param(50.0, "target: retracement of the rally toward the OPEX close, "
                                             "percent; null = no target", explore=(50.0, 100.0), gt=0, le=150)

    @field_validator("quarters")
    @classmethod
    def _quarter_ends(cls, months: list[int]) -> list[int]:
        wrong = [m for m in months if m not in QUARTER_END_MONTHS]
        if wrong or not months:
            raise ValueError(f"expected quarter-end months from 3, 6, 9, 12 (got {months})")
        return sorted(set(months))


class VwapCloseFadeParams(PlaybookParams):
    k: float = param(2.0, "trigger: |z| of the close against the session VWAP at least this", explore=(1.5, 3.0),
                     gt=0, le=10)
    min_move_pct: float = param(0.3, "trigger: the price moved at least this since 15:00 (an hour before the close), "
                                "percent, in the direction being faded", explore=(0.2, 0.6), ge=0, le=10)
    volume_ratio_min: float | None = param(None, "trigger: last 30 minutes' volume at least this times its 20-session "
                                           "average at the same distance to the close; null = off",
                                           explore=(1.0, 2.5), gt=0, le=20)
    stop_z: float = param(3.0, "stop at this |z| (from the VWAP and σ at the decision)", explore=(2.5, 4.0), gt=0, le=20)
    stop_pct: float = param(0.25, "stop this far adverse of the decision close, percent (the nearer stop wins)",
                            explore=(0.15, 0.5), gt=0, le=10)
    exit_at_vwap: bool = param(True, "also exit with a limit at the session VWAP (at the decision)")
    risk_pct: float = param(0.25, "equity at risk per trade, percent (risk over the stop distance)",
                            explore=(0.1, 0.5), gt=0, le=5)
    max_position_pct: float = param(95.0, "cap on position value, percent of equity (room for fees and the "
                                    "next open)", gt=0, le=400)
    venue: Literal["NYSE", "NASDAQ"] = param("NYSE", "listing venue: sets the market-on-close cutoff")
    month_end: bool = param(True, "eligible: the last month_end_sessions sessions of every month")
    month_end_sessions: int = param(3, "sessions at the end of each month", ge=1, le=10)
    year_turn: bool = param(True, "eligible: the last and first year_turn_sessions sessions of Dec / Jan")
    year_turn_sessions: int = param(5, "sessions at the end of December and start of January", ge=1, le=15)
    quarter_end: bool = param(True, "eligible: the last session of March, June, September, December")
    quad_witching: bool = param(True, "eligible: the third Friday of March, June, September, December "
                                "(the session before it when it is a holiday)")
    every_day: bool = param(False, "eligible: every session (ignores the filters above; for studies)")
    filters: list[SignalFilter] = param([], "extra entry conditions from strategies.signals (rotation, drift, "
                                        "volume_spike) on daily feeds declared under feeds: (the instrument's "
                                        "own daily bars too), as of the previous session's close")

    @model_validator(mode="after")
    def _stop_beyond_trigger(self) -> "VwapCloseFadeParams":
        if self.stop_z <= self.k:
            raise ValueError(f"stop_z ({self.stop_z:g}) must be above k ({self.k:g}): a trade is only entered "
                             f"while |z| is between them")
        return self
