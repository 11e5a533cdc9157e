"""Quarter-end rally fade (short): the December fade's idea at every quarter end.

Many balanced funds rebalance quarterly. Inside each chosen quarter's window
(the 2nd session after the monthly OPEX of the quarter's last month to the
quarter's second-to-last session), on a completed daily bar, all of:

1. rebalancing pressure over the quarter: with a bonds feed, the quarter-to-date
   drift of a ``target_equity_weight`` mix is at least ``drift_min_pct`` points;
   without one, the quarter-to-date equity return is at least ``qtd_min_pct``;
2. a rally: the close is ``rally_pct`` above that OPEX close;
3. any ``filters`` (volume spikes, rotation, ...) pass.

Entry at the next open (or next close); exits: the quarter's last close (time
exit), a stop ``stop_atr`` ATRs above, a target retracing ``target_retrace_pct``
of the rally, an optional trailing stop. One trade per quarter.

A playbook of its own rather than a ``period:`` on december_fade: its windows
come four times a year (one trade per quarter, a baseline row per quarter
window), while december_fade keeps its golden behaviour and
its year-to-date defaults from the research.
"""
from __future__ import annotations

import datetime as dt
import math

from strategies.conditions import Condition, at_least
from strategies.market_calendar import monthly_opex_session, nth_session_of_month, session_offset
from strategies.params import backtrader_params
from strategies.playbook_params import QuarterEndFadeParams
from strategies.opex_fade import OpexRallyFade
from strategies.signals.indicators import PeriodDrift, PeriodReturn

def quarter_end_month(day: dt.date) -> int:
    """The last month of ``day``'s quarter (3, 6, 9 or 12)."""
    return 3 * ((day.month - 1) // 3 + 1)


def quarter_window(year: int, month: int) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(OPEX, first session, last entry session, exit session) of the quarter ending in ``month``."""
    opex = monthly_opex_session(year, month)
    return opex, session_offset(opex, 2), nth_session_of_month(year, month, -2), nth_session_of_month(year, month, -1)


class QuarterEndFade(OpexRallyFade):
    Params = QuarterEndFadeParams
    extra_feeds = ("bonds",)
    params = backtrader_params(QuarterEndFadeParams)

    def __init__(self):
        super().__init__()
        bonds = self.extra.get("bonds")
        self.quarter_to_date = PeriodReturn(self.bars, period="quarter")
        self.quarter_drift = None if bonds is None else PeriodDrift(
            self.bars, bonds, period="quarter", target=self.config.target_equity_weight)

    def window_of(self, today: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
        return quarter_window(today.year, quarter_end_month(today))

    def window_key(self, today: dt.date) -> int:
        return today.year * 100 + quarter_end_month(today)

    def in_season(self, today: dt.date) -> list[Condition]:
        month = quarter_end_month(today)
        return [Condition("quarter traded", month in self.config.quarters, None, f"quarters {self.config.quarters}"),
                Condition("quarter-end month", today.month == month, None, f"{dt.date(today.year, month, 1):%B}")]

    def pressure(self) -> Condition:
        """With a bonds feed: the quarter-to-date drift of the target mix; without: the equity return."""
        cfg = self.config
        t = cfg.target_equity_weight
        equity_qtd = float(self.quarter_to_date.ret[0])
        if not math.isfinite(equity_qtd):
            return Condition("quarter-to-date equity return, %", False, None, f">= {cfg.qtd_min_pct:g}",
                             note="quarter to date unknown (data starts mid-quarter)")
        if self.quarter_drift is not None:
            drift = float(self.quarter_drift.drift[0])
            bond_qtd = float(self.quarter_drift.bond_return[0])
            if math.isfinite(drift):
                return at_least(f"quarter-to-date drift of {t:.0%}/{1 - t:.0%}, pts", drift, cfg.drift_min_pct,
                                note=f"equity weight drifted {drift:+.2f} pts this quarter "
                                     f"(equities {equity_qtd:+.1%}, bonds {bond_qtd:+.1%})")
        return at_least("quarter-to-date equity return, %", equity_qtd * 100.0, cfg.qtd_min_pct,
                        note=f"equities {equity_qtd:+.1%} quarter to date")

    @classmethod
    def holding_spans(cls, year: int, params: QuarterEndFadeParams) -> list[tuple[int, tuple[dt.date, str, dt.date]]]:
        """Every window of ``year``, one per chosen quarter end (key ``year * 100 + month``): from the
        earliest fill (the session after OPEX+2, the first decision: its open, or its close for a
        next-close entry) to the quarter's last close (the time exit)."""
        entry_at = "open" if params.entry == "next_open" else "close"
        spans = []
        for month in params.quarters:
            _opex, first_decision, _last_entry, exit_day = quarter_window(year, month)
            spans.append((year * 100 + month, (session_offset(first_decision, 1), entry_at, exit_day)))
        return spans
