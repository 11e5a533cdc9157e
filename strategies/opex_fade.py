"""What the short rally fades share: the rally over an OPEX close, the conditions, the fade order.

``december_fade`` (the year end) and ``quarter_end_fade`` (every chosen quarter
end) differ in their window and in how they measure rebalancing pressure; the
trigger (one trade per window, inside the window, a rally over the OPEX close,
the pressure, any extra conditions, the filters) and the order are the same for
both, so they are written once. ``conditions`` is what ``decide`` enters on and
what the pressure monitor shows.
"""
from __future__ import annotations

import datetime as dt

from strategies.conditions import Condition, at_least, waiting_on
from strategies.market_calendar import session_offset
from strategies.playbook import SHORT, Playbook


def rally_name(opex: dt.date) -> str:
    """The rally condition's name: ``rally over the Dec OPEX close, %``."""
    return f"rally over the {opex:%b} OPEX close, %"


class OpexRallyFade(Playbook):
    """A short playbook that fades a rally over an OPEX close (params: rally_pct, entry, stop_atr,
    target_retrace_pct)."""

    direction = SHORT

    # -- what the two fades write ------------------------------------------------
    def window_of(self, today: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:  # pragma: no cover
        """(OPEX, first session, last entry session, exit session) of the window ``today`` belongs to."""
        raise NotImplementedError

    def window_key(self, today: dt.date) -> int:  # pragma: no cover
        """The window's key in ``traded_windows`` (one trade per window)."""
        raise NotImplementedError

    def in_season(self, today: dt.date) -> list[Condition]:
        """Conditions on the calendar before the window (e.g. the quarter is one of those traded)."""
        return []

    def pressure(self) -> Condition:  # pragma: no cover
        """The rebalancing pressure on the current bar."""
        raise NotImplementedError

    def extra_conditions(self, today: dt.date, exit_day: dt.date) -> list[Condition]:
        return []

    # -- written once ----------------------------------------------------------------
    def conditions(self, today: dt.date) -> list[Condition]:
        opex, first, last, exit_day = self.window_of(today)
        opex_close = self.close_on(opex)
        rally = None if opex_close is None else (float(self.bars.close[0]) / opex_close - 1.0) * 100.0
        return [
            *self.in_season(today),
            Condition("one trade per window", self.window_key(today) not in self.traded_windows, None,
                      "not traded in this window yet"),
            Condition("window", first <= today <= last, None, f"{first} to {last} (OPEX {opex} + 2 sessions)"),
            at_least(rally_name(opex), rally, self.config.rally_pct),
            self.pressure(),
            *self.extra_conditions(today, exit_day),
            *self.filter_conditions(),
        ]

    def decide(self, today: dt.date) -> None:
        season = self.in_season(today)
        window = self.window_key(today)
        if not all(c.ok for c in season) or window in self.traded_windows:
            return
        opex, first, last, exit_day = self.window_of(today)
        if not first <= today <= last:
            return
        opex_close = self.close_on(opex)
        if opex_close is None:
            self.log.warning(f"no bar for the {opex:%b} OPEX session {opex}; skipping the window of {opex:%Y-%m}")
            self.traded_windows.add(window)
            return
        conditions = self.conditions(today)
        waits = waiting_on(conditions)
        rally = next(c for c in conditions if c.name == rally_name(opex))
        pressure = self.pressure()
        if waits:
            if rally.ok:
                self.log.debug(f"{today}: rally {rally.value:.2f}% but it waits on {', '.join(waits)} "
                               f"({pressure.note})")
            return
        self.enter_fade(today, float(self.bars.close[0]), opex_close, exit_day, window=window,
                        why=f"rally {rally.value:.2f}% over the {opex:%b} OPEX close {opex_close:.2f}, "
                            f"{pressure.note}")

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
