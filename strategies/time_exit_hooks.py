"""What a daily playbook tells a broker that cannot send its time exit on time (pure backtrader).

A broker whose bars have stopped (IB Gateway's 1100: runner/ib/broker_stale.py) asks each playbook
when its open trade's time exit must be working, and tells it to leave the trade now once orders can
go out again:

* ``time_exit_due()``: the market-on-close cutoff of the exit day (the last moment the exit can
  still go out as designed), while the trade is open and its time exit is not working; else None;
* ``hold_time_exit()``: the broker has alerted that the time exit cannot go out in time; from now on
  the playbook does not send it itself (a replay of the missed bars, once they come, would send it
  late: after the cutoff, or into the next session's auction), the broker's ``exit_now`` follows;
* ``exit_now(why)``: cancel the exits and flatten at market (``info.reason`` ``flatten``); the time
  exit is then never sent.

A backtest never calls them (its bars never stop).
"""
from __future__ import annotations

import datetime as dt

import backtrader as bt

from strategies.market_calendar import moc_cutoff


class TimeExitHooks:
    def time_exit_due(self) -> dt.datetime | None:
        plan = self.trade_plan
        if plan is None or not plan.filled or plan.flattening:
            return None
        if plan.time_exit_sent and any(o.alive() and o.info.get("reason") == "time_exit" for o in self.exit_orders):
            return None
        return moc_cutoff(plan.exit_day).to_pydatetime()

    def hold_time_exit(self) -> None:
        if self.trade_plan is not None:
            self.trade_plan.time_exit_held = True

    def exit_now(self, why: str) -> None:
        plan = self.trade_plan
        if plan is None or plan.flattening:
            return
        self.log.error(f"{plan.exit_day}: time exit not sent ({why}); cancelling the exits and flattening at market")
        self._withdraw(self.exit_orders)
        close_side = self.sell if plan.direction > 0 else self.buy
        flatten = close_side(data=self.bars, size=plan.size, exectype=bt.Order.Market)
        self._tag(flatten, "flatten")
        self.exit_orders = [flatten]
        plan.time_exit_sent = plan.flattening = True
