"""The guards of :class:`runner.ib.broker.IBBroker`: the position limit, the daily loss limit and a connectivity
loss that lasts.

- ``risk.max_position_value`` refuses an order that would open or add to a
  position beyond it; an exit (closing or reducing the position held,
  attached to a parent, or sent with an entry: ``entry_ref``) never opens a
  position and is never refused by it;
- losing ``risk.max_daily_loss`` from the value at the previous session's last
  bar (history replayed at a restart does not count) cancels this bot's open
  orders, flattens every position (fills already reported included) and stops
  the run (``on_halt``);
- 1100 (connectivity lost) with no 1101/1102 after it (issue 10, defect 10):
  orders are held, and an ERROR names the positions left to the orders working
  at the gateway after ``stale_alert_after`` seconds and again at 2x, 4x ...
  that time, until connectivity is back.
"""
from __future__ import annotations

import datetime as dt
import time

from runner.ib.orders import OrderSpec
from runner.ib.sessions import NEW_YORK


class BrokerGuards:
    # -- risk: position value -----------------------------------------------------
    def position_value_room(self, data, buy: bool, price: float) -> tuple[float, float] | None:
        """(value an entry on ``data`` may still add at ``price``, value the account already holds there in
        that direction) under ``risk.max_position_value``; the limit is per symbol, so a position another
        playbook holds in the same symbol and direction counts. None without the limit.
        FlowbotStrategy.size_by_risk sizes within it, so :meth:`_position_limit_breach` refuses nothing."""
        limit = self.risk.max_position_value
        if limit is None:
            return None
        held = self.positions[self._symbol(data)].size
        same_side = (held > 0 and buy) or (held < 0 and not buy)
        held_value = abs(held) * price
        return (max(limit - held_value, 0.0), held_value) if same_side else (limit + held_value, 0.0)

    def _position_limit_breach(self, order) -> str | None:
        limit = self.risk.max_position_value
        if limit is None:
            return None
        if self._is_exit(order):
            return None   # closing or protecting a position never opens one: the opening limit does not apply
        data = order.data
        price = order.created.price or (data.close[0] if len(data) else None)
        if not price:
            return None
        after = self.positions[self._symbol(data)].size + order.created.size
        if abs(after) * price > limit:
            return (f"position value {abs(after) * price:,.0f} would exceed risk.max_position_value "
                    f"{limit:,.0f}")
        return None

    def _is_exit(self, order) -> bool:
        """An order that closes or reduces the position held, or protects an entry (attached to a parent,
        or sent with one: ``entry_ref``); a stop or target never opens a position of its own."""
        if order.parent is not None or order.info.get("entry_ref") is not None:
            return True
        held = self.positions[self._symbol(order.data)].size
        after = held + order.created.size
        return bool(held) and abs(after) <= abs(held) + 1e-9 and (after == 0 or (after > 0) == (held > 0))

    # -- risk: daily loss -------------------------------------------------------
    def _check_daily_loss(self) -> None:
        """Loss is measured from the value at the previous session's last bar."""
        limit = self.risk.max_daily_loss
        datas = self._datas()
        if limit is None or self.halted or not datas or not len(datas[0]):
            return
        if any(getattr(d, "backfilling", False) for d in datas):
            # History replayed at a restart is no loss of today's: the baseline is the first live value.
            self._session = self._session_start_value = None
            return
        session = datas[0].datetime.date(0)
        value = self.getvalue()
        if session != self._session:
            if self._session is not None:
                self._session_start_value = self._last_value
            self._session = session
        self._last_value = value
        if self._session_start_value is None:
            self._session_start_value = value
            return
        loss = self._session_start_value - value
        if loss >= limit:
            self.halt(f"daily loss {loss:,.2f} reached risk.max_daily_loss {limit:,.2f}")

    def halt(self, why: str) -> None:
        """Cancel this bot's open orders, flatten every position, refuse new orders, stop the run."""
        self.halted = True
        self.log.error(f"halting: {why}; cancelling open orders and flattening")
        self.store.pump()   # fills already reported (e.g. the rest of a partly filled entry) are flattened too
        self._book_all()
        for ref in list(self.orders):
            self._request_cancel(ref)
        stamp = dt.datetime.now(NEW_YORK).strftime("%Y%m%dT%H%M%S")
        for symbol, pos in self.positions.items():
            feed = getattr(self, "_contracts", {}).get(symbol)
            if pos.size and feed is not None:
                spec = OrderSpec(orderRef=f"{self.prefix}:flatten:{symbol}:{stamp}:1",
                                 action="SELL" if pos.size > 0 else "BUY", totalQuantity=abs(pos.size),
                                 orderType="MKT", tif="DAY")
                self.store.place_market(feed.contract, spec, symbol)
        if self.on_halt is not None:
            self.on_halt(why)


    def _alert_while_lost(self) -> None:
        """1100 with no 1101/1102 after it: an ERROR once ``stale_alert_after`` seconds have passed, and again at
        every further multiple (1, 2, 4 ... times), naming the positions left to the exits at the gateway."""
        if not self.paused:
            return
        lost_for = time.monotonic() - self.lost_since
        if lost_for < self.stale_alert_after * (2 ** self.alerts_while_lost):
            return
        self.alerts_while_lost += 1
        held = ", ".join(f"{s} {p.size:g}" for s, p in self.positions.items() if p.size) or "none"
        self.log.error(f"gateway connectivity lost (1100) for {lost_for / 60:,.1f} min and not restored: no bars, "
                       f"no new orders; positions {held} rest on the orders working at the gateway; check IB "
                       f"Gateway (its connection to IB) now")
