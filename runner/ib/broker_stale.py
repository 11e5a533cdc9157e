"""Time exits while the gateway has lost IB (issue 10, defect 10), inside :class:`runner.ib.broker.IBBroker`.

1100 says the gateway lost its connection to IB; with no 1101/1102 after it, no bars come, and an order
sent would only wait at the gateway (or be refused) while the account's executions and positions stop
being current. A daily playbook's time exit is a market-on-close order sent on the bar before the exit
day; a bar that never comes sends nothing, and the position would be held past its exit.

- The clock is the gateway's (``events.Clock``, polled by the store, and moved on by the local
  monotonic clock between polls): bars say nothing while connectivity is lost.
- Each strategy that can hold a position over a time exit says when that exit must reach the broker,
  while it has not: ``time_exit_due()`` (a New York time, or None when flat or the exit is already
  working at the gateway; the gateway and IB work a resting exit by themselves).
- While connectivity is lost and a due time is ``ib.stale_exit_minutes`` away or past: an ERROR naming
  the strategy, the position and the due time, and an ``on_alert("stale_exit", text)`` (the session's
  webhook). Nothing is sent while it lasts (what is safe: the account is not current, an order would
  only queue at the gateway, and an execution reported late could make a flatten open a new position).
- From that alert on the strategy does not send the time exit itself (``hold_time_exit()``): the
  replay of the missed bars would send it late, after the cutoff or into the next session's auction.
- At the first chance once orders can go out again (1101/1102, or a reconnect and its reconciliation),
  after a further gateway clock answer (so executions the gateway held back have arrived and been
  booked first), each such strategy still holding its position without a working time exit is told
  ``exit_now(why)``: it cancels its exits and flattens at market.
- The same for a playbook whose feed's real-time bars stopped with no error while the socket is up
  (runner/ib/broker_feed_stall.py): the alert when the due time is ``ib.stale_exit_minutes`` away or
  past, and since orders can go out, the flatten after one more gateway clock answer.
- Socket up, orders possible, but no bars yet (e.g. the first minutes after 1101 while history is
  replayed), and connectivity back before the alert: the replay of the missing bars sends the time
  exit as the strategy would have (deferred until the replay ends), still before its cutoff; only a due
  time reached while connectivity was lost leads to the flatten.
"""
from __future__ import annotations

import datetime as dt
import time

from runner.ib import events
from runner.ib.sessions import NEW_YORK


class StaleTimeExits:
    def _init_stale_exits(self, minutes: float) -> None:
        self.stale_exit_minutes = minutes
        self.on_alert = None                 # (kind, text): the session's notifications
        self.gateway_time: dt.datetime | None = None
        self._gateway_time_at = 0.0
        self.clock_answers = 0
        self.stale_exits: dict[object, dt.datetime] = {}   # strategy -> due time, alerted while lost
        self._stale_causes: dict[object, str] = {}          # strategy -> why its exit could not go out
        self._flatten_after_answer: int | None = None
        self.store.subscribe(events.Clock, self._on_gateway_clock)

    def _on_gateway_clock(self, m: events.Clock) -> None:
        self.gateway_time, self._gateway_time_at = m.now, time.monotonic()
        self.clock_answers += 1

    def gateway_now(self) -> dt.datetime | None:
        if self.gateway_time is None:
            return None
        return self.gateway_time + dt.timedelta(seconds=time.monotonic() - self._gateway_time_at)

    def _exit_owners(self) -> list:
        owners = []
        for order in self.by_bt_ref.values():
            owner = order.owner
            if owner is not None and hasattr(owner, "time_exit_due") and owner not in owners:
                owners.append(owner)
        return owners

    def _watch_stale_time_exits(self) -> None:
        if self.paused:
            self._flatten_after_answer = None
            self._alert_stale_time_exits(self._exit_owners(), self._lost_cause())
            return
        stalled = self._stalled_owners()   # the feed's bars stopped with no error (runner/ib/broker_feed_stall.py)
        if stalled:
            self._alert_stale_time_exits(stalled, None)
        if not self.stale_exits:
            return
        if self._flatten_after_answer is None:   # orders can go out again: one more clock answer first
            self._flatten_after_answer = self.clock_answers + 1
            return
        if self.clock_answers <= self._flatten_after_answer or self.notifs or self.awaiting:
            return   # late executions booked and told to the strategies before deciding
        pending, self.stale_exits, self._flatten_after_answer = self.stale_exits, {}, None
        causes, self._stale_causes = self._stale_causes, {}
        for owner, due in pending.items():
            if owner.time_exit_due() is None:
                self.log.warning(f"{_label(owner)}: the time exit due {_ny(due)} is no longer needed (flat, or the "
                                 f"exit is working at the gateway)")
                continue
            why = f"its time exit was due {_ny(due)} while {causes.get(owner, _LOST)}"
            self.log.error(f"{_label(owner)}: flattening at market now that orders can go out: {why}")
            self._tell_alert(f"{_label(owner)}: flattening at market: {why}")
            owner.exit_now(why)

    def _lost_cause(self) -> str:
        return f"the gateway has lost IB (1100) since {(time.monotonic() - self.lost_since) / 60:,.1f} min"

    def _alert_stale_time_exits(self, owners: list, cause: str | None) -> None:
        """``cause``: why the exit cannot go out (None: the owner's feed is stalled, said per owner)."""
        now = self.gateway_now()
        if now is None:
            return
        for owner in owners:
            if owner in self.stale_exits:
                continue
            due = owner.time_exit_due()
            if due is None:
                continue
            due = due if due.tzinfo else due.replace(tzinfo=NEW_YORK)
            if now < due - dt.timedelta(minutes=self.stale_exit_minutes):
                continue
            self.stale_exits[owner] = due
            owner.hold_time_exit()   # sent late by a replay of the missed bars it would miss its auction
            data = getattr(owner, "bars", None)
            held = self.getposition(data).size if data is not None else 0
            symbol = self._symbol(data) if data is not None else ""
            left = (due - now).total_seconds() / 60
            when = f"in {left:,.0f} min" if left > 0 else f"{-left:,.0f} min ago"
            if cause is None:
                self._stale_causes[owner] = f"{data._name}'s real-time bars had stopped with no error"
                text = (f"{_label(owner)}: time exit of {held:+g} {symbol} due {_ny(due)} ({when}) and the "
                        f"real-time bars of {data._name} have stopped (no error from the gateway): no bar will send "
                        f"it; the position is flattened at market now (orders can go out); check IB Gateway's "
                        f"market data")
            else:
                self._stale_causes[owner] = _LOST
                text = (f"{_label(owner)}: time exit of {held:+g} {symbol} due {_ny(due)} ({when}) and {cause}: it "
                        f"cannot be sent; the position is flattened at market at the first chance once orders can "
                        f"go out again; check IB Gateway now")
            self.log.error(text)
            self._tell_alert(text)

    def _tell_alert(self, text: str, kind: str = "stale_exit") -> None:
        if self.on_alert is not None:
            try:
                self.on_alert(kind, text)
            except Exception as exc:   # a notification never stops trading
                self.log.warning(f"{kind} notification failed: {exc!r}")


_LOST = "the gateway had lost IB (1100)"


def _label(owner) -> str:
    return getattr(owner, "label", None) or type(owner).__name__


def _ny(when: dt.datetime) -> str:
    return when.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M %Z")
