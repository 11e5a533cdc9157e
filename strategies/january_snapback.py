"""Playbook B: buy a December sell-off for the January snapback (long).

Trigger at the end of December, any of: the 5-session return at most
``five_day_return_pct``, or the Dec-OPEX-to-date return at most
``opex_return_pct``. With ``entry: last_close`` (default) the decision is made
on the second-to-last December session's completed bar and a market-on-close
order buys the last December close; with ``next_open`` the decision waits for
the last December bar and buys the first January open.

Exits: the close of January session ``hold_sessions`` (time exit, MOC sent the
session before), a stop ``stop_atr`` ATRs below, a target at a full
retracement of the decline (or ``target_atr`` ATRs, or the nearer of the two),
an optional trailing stop.
"""
from __future__ import annotations

import datetime as dt

from strategies.conditions import Condition, at_most, waiting_on
from strategies.market_calendar import december_opex_session, nth_session_of_month, session_offset
from strategies.params import backtrader_params
from strategies.playbook_params import JanuarySnapbackParams
from strategies.playbook import LONG, Playbook


class JanuarySnapback(Playbook):
    Params = JanuarySnapbackParams
    direction = LONG
    params = backtrader_params(JanuarySnapbackParams)
    window_feed = True

    def decision_day(self, year: int) -> dt.date:
        last_december = nth_session_of_month(year, 12, -1)
        return session_offset(last_december, -1) if self.config.entry == "last_close" else last_december

    def _sell_off(self) -> tuple[float | None, float | None, float | None, float | None]:
        """(5-session return %, the close 5 sessions back, return since the Dec OPEX close %, that close)."""
        close = float(self.bars.close[0])
        start_5 = float(self.bars.close[-5]) if len(self.bars) >= 6 else None
        opex_close = self.close_on(december_opex_session(self.bars.datetime.date(0).year))
        five_day = None if start_5 is None else (close / start_5 - 1.0) * 100.0
        since_opex = None if opex_close is None else (close / opex_close - 1.0) * 100.0
        return five_day, start_5, since_opex, opex_close

    def conditions(self, today: dt.date) -> list[Condition]:
        cfg = self.config
        decision_day = self.decision_day(today.year)
        five_day, _start, since_opex, _opex_close = self._sell_off()
        sell_off = [at_most("5-session return, %", five_day, cfg.five_day_return_pct, required=False),
                    at_most("return since the Dec OPEX close, %", since_opex, cfg.opex_return_pct, required=False)]
        return [Condition("decision day", today == decision_day, None, str(decision_day)),
                Condition("one trade per year", today.year not in self.traded_windows, None,
                          "not decided this year yet"),
                *sell_off,
                Condition("a sell-off (either above)", any(c.ok for c in sell_off), None, "any"),
                *self.filter_conditions()]

    def decide(self, today: dt.date) -> None:
        if today.month != 12 or today.year in self.traded_windows or today != self.decision_day(today.year):
            return
        conditions = self.conditions(today)
        self.traded_windows.add(today.year)   # decided once a year, traded or not
        if len(self.bars) < 6:
            return
        five_day, start_5, since_opex, opex_close = self._sell_off()
        waits = waiting_on(conditions)
        if waits:
            opex_text = "n/a" if since_opex is None else f"{since_opex:.2f}%"
            self.log.debug(f"{today}: waits on {', '.join(waits)} (5-session {five_day:.2f}%, since OPEX {opex_text})")
            return
        five_day_fell, opex_fell = (c.ok for c in conditions if not c.required)
        reasons, decline_from = [], []
        if five_day_fell:
            reasons.append(f"5-session return {five_day:.2f}%")
            decline_from.append(start_5)
        if opex_fell:
            reasons.append(f"return since OPEX {since_opex:.2f}%")
            decline_from.append(opex_close)
        cfg = self.config
        close = float(self.bars.close[0])
        atr = float(self.atr[0])
        exit_day = nth_session_of_month(today.year + 1, 1, cfg.hold_sessions)
        self.enter(LONG, stop=close - cfg.stop_atr * atr, target=self._target(close, max(decline_from), atr),
                   exit_day=exit_day, timing="next_close" if cfg.entry == "last_close" else "next_open",
                   today=today, window=today.year, why=", ".join(reasons))

    def _target(self, close: float, decline_start: float, atr: float) -> float | None:
        mode = self.config.target
        by_atr = close + self.config.target_atr * atr
        if mode == "retracement":
            return decline_start
        if mode == "atr":
            return by_atr
        if mode == "nearer":
            return min(decline_start, by_atr)
        return None

    @classmethod
    def holding_span(cls, year: int, params: JanuarySnapbackParams) -> tuple[dt.date, str, dt.date]:
        # last_close: bought at the last December close; next_open: at the first January open.
        last = nth_session_of_month(year + 1, 1, params.hold_sessions)
        if params.entry == "last_close":
            return nth_session_of_month(year, 12, -1), "close", last
        return nth_session_of_month(year + 1, 1, 1), "open", last

    @classmethod
    def active_window(cls, year: int, params: JanuarySnapbackParams) -> tuple[dt.date, dt.date]:
        # decide() acts on one session (the last or second-to-last of December); the time exit is
        # the close of January session hold_sessions.
        last_december = nth_session_of_month(year, 12, -1)
        decision_day = session_offset(last_december, -1) if params.entry == "last_close" else last_december
        return decision_day, nth_session_of_month(year + 1, 1, params.hold_sessions)

    @classmethod
    def lookback_bars(cls, params: JanuarySnapbackParams) -> int:
        # The close 5 sessions back and the Dec OPEX close (at most 10 sessions before the decision).
        return 15
