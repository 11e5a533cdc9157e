"""A minimal daily playbook for the order tests: one long trade decided on a given session.

The stop and target are deliberately off the tick (percentages of the close), as
a real playbook's ATR-based prices are. Every notification is recorded as
(reason, status, executed size, orderRef).
"""
from __future__ import annotations

import datetime as dt
from typing import Literal

from strategies.market_calendar import session_offset
from strategies.params import DailyPlaybookParams, backtrader_params, param
from strategies.playbook import LONG, Playbook


class OneTradeParams(DailyPlaybookParams):
    enter_on: str = param("", "ISO date of the session whose completed bar decides the entry")
    timing: Literal["next_open", "next_close"] = param("next_open", "entry timing")
    stop_pct: float = param(3.0, "stop below the close, percent", gt=0)
    target_pct: float = param(3.0, "target above the close, percent", gt=0)
    hold: int = param(5, "time exit this many sessions after the decision", ge=2)


class OneTrade(Playbook):
    Params = OneTradeParams
    direction = LONG
    params = backtrader_params(OneTradeParams)

    def __init__(self):
        super().__init__()
        self.notes: list[tuple[str, str, float, str]] = []
        self.last_day: dt.date | None = None   # the latest session bar seen (read by the tests' waits)

    def next(self):
        super().next()
        self.last_day = self.bars.datetime.date(0)

    def decide(self, today: dt.date) -> None:
        if str(today) != self.config.enter_on or today.year in self.traded_windows:
            return
        close = float(self.bars.close[0])
        self.enter(LONG, stop=close * (1 - self.config.stop_pct / 100.0),
                   target=close * (1 + self.config.target_pct / 100.0),
                   exit_day=session_offset(today, self.config.hold), timing=self.config.timing, today=today,
                   why="test signal", window=today.year)

    def notify_order(self, order):
        self.notes.append((order.info.get("reason"), order.getstatusname(), order.executed.size,
                           order.info.get("orderRef")))
        super().notify_order(order)

    def statuses(self, reason: str) -> list[str]:
        return [s for r, s, _, _ in self.notes if r == reason]
