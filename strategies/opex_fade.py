"""What the short rally fades share: the rally over an OPEX close, and the fade order.

``december_fade`` (the year end) and ``quarter_end_fade`` (every chosen quarter
end) differ in their window and in how they measure rebalancing pressure; the
two steps here are the same for both, so they are written once.
"""
from __future__ import annotations

import datetime as dt

from strategies.market_calendar import session_offset
from strategies.playbook import SHORT, Playbook


class OpexRallyFade(Playbook):
    """A short playbook that fades a rally over an OPEX close (params: rally_pct, entry, stop_atr,
    target_retrace_pct)."""

    direction = SHORT

    def rally_over(self, opex: dt.date, window: int, skipping: str) -> tuple[float, float, float] | None:
        """(close, OPEX close, rally %) when today's close is ``rally_pct`` above the OPEX close.

        With no bar for the OPEX session the window is given up (logged once, ``skipping`` names it).
        """
        opex_close = self.close_on(opex)
        if opex_close is None:
            self.log.warning(f"no bar for the {opex:%b} OPEX session {opex}; skipping {skipping}")
            self.traded_windows.add(window)
            return None
        close = float(self.bars.close[0])
        rally = (close / opex_close - 1.0) * 100.0
        if rally < self.config.rally_pct:
            return None
        return close, opex_close, rally

    def enter_fade(self, today: dt.date, close: float, opex_close: float, exit_day: dt.date, window: int,
                   why: str) -> None:
        """Short at the next open (or close): stop ``stop_atr`` ATRs above, target retracing the rally."""
        cfg = self.config
        if cfg.entry == "next_close" and session_offset(today, 1) >= exit_day:
            return   # the entry would fill on the exit day itself
        atr = float(self.atr[0])
        target = None
        if cfg.target_retrace_pct is not None:
            target = close - cfg.target_retrace_pct / 100.0 * (close - opex_close)
        self.enter(SHORT, stop=close + cfg.stop_atr * atr, target=target, exit_day=exit_day, timing=cfg.entry,
                   today=today, window=window, why=why)
