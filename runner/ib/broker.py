"""backtrader broker that trades through the IB store.

Contract:

- every order gets a deterministic ``orderRef``
  (``<prefix>:<strategy>:<symbol>:<bar time>:<n>``): the same decision on the
  same bar always has the same reference. It is journaled before it is sent,
  so after a restart the replayed decision finds its journal row and is bound
  to the gateway's order instead of being sent again;
- a next-open entry that announces its exits (``info.exits_follow``) is held, untransmitted, until they
  have been given and goes out with them as one IB bracket, the last one transmitting: the gateway never
  holds the entry live without its stop (runner/ib/broker_held_entries.py);
- decisions made while a feed is still replaying history are never sent fresh:
  if the journal knows them they are bound to what the gateway did, otherwise
  they are cancelled with a log line;
- IB statuses map to backtrader's (Submitted, Accepted, Partial per fill,
  Completed, Canceled, Rejected, Margin); fills are counted once per
  ``execId`` and carry the commission from IB's commission report;
- repeats from the gateway (openOrder at each change, doubled orderStatus,
  late commission reports, unsolicited orders at reconnect) change nothing;
- a position the journal's fills do not explain (orders filled while no run was connected) is journaled
  from the unfinished orders that explain it, the exit of a bracket that filled told by the backfilled bars
  (runner/ib/broker_away.py);
- an entry an earlier run sent that filled in part is, after a restart (same day or later), the position
  for what filled; its rest is cancelled (or, no longer at the gateway, journaled Cancelled) and the
  playbook resizes its stop and target to what filled (runner/ib/broker_adopt.py);
- a translation failure or a risk-limit breach becomes a Rejected order;
- cash starts from the account (TotalCashValue) and moves with fills and
  commissions; positions start from the account and move with fills; value is
  cash plus positions at the feeds' last close, as in a backtest;
- losing ``risk.max_daily_loss`` from the session's first value cancels open
  orders, flattens and stops the run (``on_halt``);
- a time exit due while the gateway has lost IB (1100) is alerted
  (``on_alert``) and flattened at the first chance (runner/ib/broker_stale.py);
- real-time bars that stop with the socket up and no error are detected, alerted and requested again,
  and a time exit falling due meanwhile is flattened (runner/ib/broker_feed_stall.py).
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from typing import Callable

import backtrader as bt
from loguru import logger

from runner.ib import events
from runner.ib.broker_fills import COMMISSION_WAIT, GatewayFills  # noqa: F401  (COMMISSION_WAIT: public)
from runner.ib.ib_config import RiskLimits
from runner.ib.feed_positions import split_positions
from runner.ib.broker_adopt import JOURNAL_DONE, OrderAdoption
from runner.ib.broker_away import FillsWhileAway
from runner.ib.broker_round_trips import RoundTripsWhileAway
from runner.ib.broker_exits import AttachedExits
from runner.ib.broker_feed_stall import FeedStalls
from runner.ib.broker_guards import BrokerGuards
from runner.ib.broker_held_entries import HeldEntries
from runner.ib.broker_reconnect import ReconnectFollowing
from runner.ib.broker_replay import ReplayedPositions
from runner.ib.broker_stale import StaleTimeExits
from runner.ib.orders import OrderSpec, TranslationError, order_spec, put_on_tick



class IBBroker(GatewayFills, OrderAdoption, FillsWhileAway, RoundTripsWhileAway, AttachedExits, HeldEntries,
               BrokerGuards, ReconnectFollowing, ReplayedPositions, StaleTimeExits, FeedStalls, bt.BrokerBase):
    """Orders, cash, value and positions through :class:`runner.ib.store.IBStore`."""

    def __init__(self, store, snapshot: events.Reconciled, risk: RiskLimits | None = None,
                 on_halt: Callable[[str], None] | None = None):
        super().__init__()
        self.store = store
        self.risk = risk or RiskLimits()
        self.on_halt = on_halt
        self.prefix = store.cfg.order_ref_prefix
        self.cash = float(snapshot.cash) if snapshot.cash is not None else 0.0
        self.startingcash = self.cash
        self.positions: dict[str, bt.Position] = collections.defaultdict(bt.Position)
        self.feed_positions: dict[str, bt.Position] = {}   # feed name -> position, for symbols with two feeds
        self.feed_of_strategy: dict[str, str] = {}         # playbook label -> its instrument feed (set by the session)
        for symbol, (qty, cost) in snapshot.positions.items():
            self.positions[symbol] = bt.Position(qty, cost)
        self.notifs: collections.deque = collections.deque()
        self.orders: dict[str, bt.Order] = {}             # orderRef -> live order
        self.refs: dict[int, str] = {}                     # bt order.ref -> orderRef
        self.oca_leader: dict[int, str] = {}               # bt order.ref -> OCA group name
        self.oca_members: dict[str, list[bt.Order]] = collections.defaultdict(list)
        self.errors: dict[str, tuple[int, str]] = {}
        self.seen_execs: set[str] = set()      # executions received (queued for booking)
        self.booked: set[str] = set(snapshot.booked_execs)   # executions in positions and cash
        self.booked_here: set[str] = set()     # ... booked by this broker (late commissions apply)
        self.applied: set[str] = set()         # executions applied to a backtrader order
        self.unowned: dict[str, list] = collections.defaultdict(list)
        self.cancelling: set[str] = set()
        self.commissions: dict[str, float] = {}
        self.awaiting: collections.OrderedDict[str, tuple[float, events.Execution]] = collections.OrderedDict()
        self.unfilled_waiting: list[events.OrderStatus] = []   # cancels waiting for a fill's commission report
        self.gateway_filled: dict[str, float] = {}   # orderRef -> shares at its Filled status (see _complete_if_cut)
        self.gateway_open = dict(snapshot.open_orders)
        self.gateway_known = dict(snapshot.known_orders)
        self.bracket: list[tuple[bt.Order, OrderSpec]] = []
        self.deferred: list[tuple[bt.Order, OrderSpec]] = []
        self.by_bt_ref: dict[int, bt.Order] = {}   # every order a strategy gave, by backtrader ref
        self.held: list[tuple[object, list[OrderSpec]]] = []
        self._init_held_entries()
        self.replay_settled = False
        self.sent_earlier: set[str] = set()      # orderRefs an earlier run sent, bound to decisions of this one
        self.restart_checked: set[str] = set()   # ... whose part-filled rest was ended (broker_adopt)
        self.paused = False
        self.halted = False
        #: Seconds of 1100 without 1101/1102 before the first ERROR (then at 2x, 4x ...): defect 10.
        self.stale_alert_after = 300.0
        self.lost_since = 0.0
        self.alerts_while_lost = 0
        self._seq: collections.Counter = collections.Counter()
        self._session: dt.date | None = None
        self._session_start_value: float | None = None
        self._last_value: float | None = None
        self.log = logger.bind(component="ib.broker")
        store.subscribe(events.OrderStatus, self._on_status)
        store.subscribe(events.Execution, self._on_execution)
        store.subscribe(events.Commission, self._on_commission)
        store.subscribe(events.Connectivity, self._on_connectivity)
        store.subscribe(events.Reconciled, self._on_reconciled)
        store.subscribe(events.Position, self._on_position)
        self._init_stale_exits(getattr(store.cfg, "stale_exit_minutes", 30.0))
        self._init_feed_stalls()
        self._journal_gateway_statuses(self.gateway_known)
        self.away_checked = False   # fills while no run was connected: inferred once the feeds have backfilled

    # -- limits the strategies size within (FlowbotStrategy.size_by_risk reads them) --
    @property
    def max_position_value(self) -> float | None:
        return self.risk.max_position_value

    @property
    def max_daily_loss(self) -> float | None:
        return self.risk.max_daily_loss

    # -- account ----------------------------------------------------------------
    def getcash(self):
        return self.cash

    def getvalue(self, datas=None):
        value = self.cash if datas is None else 0.0
        for data in datas or self._valuing_feeds():
            pos = self.positions.get(self._symbol(data))
            if pos is not None and pos.size:
                price = data.close[0] if len(data) else pos.price
                value += pos.size * price
        return value

    def getposition(self, data, clone=True):
        pos = self.feed_positions.get(data._name)
        if pos is None:
            pos = self.positions[self._symbol(data)]
        if getattr(data, "backfilling", False):
            return self._position_as_replayed(data, pos)   # the position held on the replayed bar, not today's
        return pos.clone() if clone else pos

    def get_notification(self):
        return self.notifs.popleft() if self.notifs else None

    def _datas(self):
        return list(getattr(self, "_feeds", []))

    def _valuing_feeds(self):
        """One feed per symbol, the freshest: a symbol streamed as daily and 1-minute bars is valued once."""
        best = {}
        for data in self._datas():
            symbol, stamp = self._symbol(data), data.datetime[0] if len(data) else float("-inf")
            if symbol not in best or stamp > best[symbol][0]:
                best[symbol] = (stamp, data)
        return [data for _, data in best.values()]

    def register_feeds(self, feeds) -> None:
        """The feeds whose last close values positions (paper.py calls this)."""
        self._feeds = list(feeds)
        self._contracts = {self._symbol(f): f for f in feeds}
        journal = getattr(self.store, "journal", None)
        self.feed_positions = split_positions(self._feeds, self.positions, self._symbol,
                                              journal.fills() if journal is not None else (), self.feed_of_strategy)

    @staticmethod
    def _symbol(data) -> str:
        return getattr(data.p, "symbol", None) or data._name

    # -- orders from strategies -------------------------------------------------
    def buy(self, owner, data, size, **kwargs):
        return self._new_order(bt.BuyOrder, owner, data, size, **kwargs)

    def sell(self, owner, data, size, **kwargs):
        return self._new_order(bt.SellOrder, owner, data, size, **kwargs)

    def _new_order(self, order_class, owner, data, size, price=None, plimit=None, exectype=None, valid=None,
                   tradeid=0, oco=None, trailamount=None, trailpercent=None, parent=None, transmit=True,
                   histnotify=False, _checksubmit=True, **kwargs):
        """backtrader's buy/sell contract; the order goes to IB through ``_accept_new``."""
        order = order_class(owner=owner, data=data, size=size, price=price, pricelimit=plimit, exectype=exectype,
                            valid=valid, tradeid=tradeid, trailamount=trailamount, trailpercent=trailpercent,
                            parent=parent, transmit=transmit, histnotify=histnotify)
        return self._accept_new(order, oco, kwargs)

    def submit(self, order):
        return self._accept_new(order, None, {})

    def _order_ref(self, order: bt.Order) -> str:
        owner = order.owner
        label = getattr(owner, "label", None) or type(owner).__name__ if owner is not None else "none"
        when = bt.num2date(order.created.dt).strftime("%Y%m%dT%H%M%S")
        key = (label, self._symbol(order.data), when)
        self._seq[key] += 1
        return f"{self.prefix}:{label}:{key[1]}:{when}:{self._seq[key]}"

    def _accept_new(self, order: bt.Order, oco, info: dict) -> bt.Order:
        order = self._take_new(order, oco, info)
        self._exit_given(order)   # the last exit an entry held for sends the group (broker_held_entries)
        return order

    def _take_new(self, order: bt.Order, oco, info: dict) -> bt.Order:
        order.addinfo(**info)
        ref = self._order_ref(order)
        order.addinfo(orderRef=ref)
        order.addcomminfo(self.getcommissioninfo(order.data))   # trade P&L arithmetic; fees come from IB
        self.refs[order.ref] = ref
        self.by_bt_ref[order.ref] = order
        if oco is not None:
            group = self.oca_leader.get(oco.ref) or self.refs.get(oco.ref)
            self.oca_leader[oco.ref] = group
            self.oca_leader[order.ref] = group
            if oco not in self.oca_members[group]:
                self.oca_members[group].append(oco)
            self.oca_members[group].append(order)
        else:
            self.oca_leader[order.ref] = None
        put_on_tick(order, self._min_tick(order.data))   # every record shows the price sent
        order.submit(self)
        self.notify(order)
        log = self.log.bind(order_ref=ref)
        if self.halted:
            return self._reject(order, "trading halted by the daily loss limit")
        parent_ref = self.refs.get(order.parent.ref) if order.parent is not None else None
        group = self.oca_leader[order.ref]
        if group is None and parent_ref is None and order.transmit and order.exectype != bt.Order.Market:
            # A resting order may become the leader of an OCO group later (backtrader's oco= names it
            # afterwards), and IB needs the group on every member, so each one starts its own group.
            group = self.oca_leader[order.ref] = ref
        replaying = any(getattr(d, "backfilling", False) for d in self._datas())
        self._follow_filled_entry(order)
        put_on_tick(order, self._min_tick(order.data))
        entry_state = self._unfilled_entry_of(order)
        attach = parent_ref or (None if replaying else entry_state)
        if entry_state is False and not parent_ref:
            # Its entry never reached the gateway (refused here): the exit must not go out alone.
            log.info("exit withdrawn: the entry it protects was refused before it was sent")
            order.cancel()
            self.notify(order)
            return order
        try:
            spec = order_spec(order, ref, parent_ref=attach, oca_group=group, min_tick=self._min_tick(order.data))
        except TranslationError as exc:
            return self._reject(order, f"cannot translate to an IB order: {exc}")
        live = self._latest_incarnation(ref)
        if live != ref:
            self._rebind(order, ref, live)
            spec = dataclasses.replace(spec, orderRef=live)
            ref = live
        self.orders[ref] = order
        row = self.store.journal.order(ref)
        # "Already sent" comes before the risk check: a decision an earlier run sent is followed, not re-decided.
        if self._known(ref):
            if not replaying:
                log.warning("decision already sent by an earlier run; following that order, not resending")
            self._move_unmoved_exit(order, spec, row)
            return self._bind_historical(order, ref)
        if row is not None and (row["status"] in JOURNAL_DONE or self.store.journal.fills(ref)):
            # Known from the journal only (the gateway reports today's orders only): the memory across days.
            self.gateway_known[ref] = row["status"]
            return self._bind_historical(order, ref)
        adopted = None if self._entry_unfilled(order) else self._adopt_working(order, spec)
        if adopted is not None:
            return self._bind_historical(order, adopted)
        if replaying:
            if not self._is_exit(order):
                # A past decision the journal and the gateway do not know was never sent: it is dropped
                # on its own bar, so the replayed playbook decides on the next bars as the earlier runs did
                # and reaches the decisions they sent (bound above), never a second entry of its own.
                return self._drop_past_decision(order, spec)
            # An exit: decided when the replay of history ends (sent if it protects the position held);
            # never refused by a limit meanwhile.
            self.deferred.append((order, spec))
            return order
        breach = self._position_limit_breach(order)
        if breach:
            return self._reject(order, breach)
        if row is not None:
            if row["status"] != "Intent":
                # Sent by an earlier run but unknown to the gateway: never send the same orderRef twice.
                spec = self._resend_spec(spec, log)
                self._rebind(order, ref, spec.orderRef)
            else:
                log.warning("decision journaled by an earlier run that ended before sending it; sending it now")
        spec = self._hold_for_exits(order, spec)   # an entry goes out with the exits it announces
        self.bracket.append((order, spec))
        if spec.transmit:
            self._send_bracket()
        return order

    def cancel(self, order):
        """Cancel at the gateway; like backtrader's OCO, the rest of its group goes too."""
        ref = self.refs.get(order.ref)
        if ref is None or not order.alive():
            return
        for i, (deferred, _) in enumerate(self.deferred):
            if deferred is order:   # never sent: cancelled here
                del self.deferred[i]
                self.orders.pop(ref, None)
                order.cancel()
                self.notify(order)
                self._cancel_siblings(order)
                return
        self._request_cancel(ref)
        self._cancel_siblings(order)
        for i, (contract, specs) in enumerate(self.held):
            if any(s.orderRef == ref for s in specs):
                del self.held[i]
                order.cancel()
                self.notify(order)
                return

    def _cancel_siblings(self, order: bt.Order) -> None:
        group = self.oca_leader.get(order.ref)
        for sibling in self.oca_members.get(group, ()) if group else ():
            if sibling is not order and sibling.alive():
                if any(d is sibling for d, _ in self.deferred):
                    self.cancel(sibling)
                else:
                    self._request_cancel(self.refs.get(sibling.ref))

    def _request_cancel(self, ref: str) -> None:
        if ref in self.orders and ref not in self.cancelling:
            self.cancelling.add(ref)
            self.store.cancel(ref)

    def notify(self, order: bt.Order) -> None:
        self.notifs.append(order.clone())

    def _reject(self, order: bt.Order, why: str, margin: bool = False, level: str = "WARNING") -> bt.Order:
        """``level``: DEBUG when the gateway's error was already said (the store's one line about it)."""
        self.log.bind(order_ref=order.info.get("orderRef")).log(level, f"order {'margin' if margin else 'rejected'}: {why}")
        order.addinfo(reject_reason=why)
        if margin:
            order.margin()
        else:
            order.reject(self)
        self.notify(order)
        self.orders.pop(order.info.get("orderRef"), None)
        return order

    # -- the backtrader tick ----------------------------------------------------------
    def next(self):
        if not self.away_checked:   # the feeds' backfilled bars tell which exit of a bracket filled meanwhile
            self.away_checked = True
            self._infer_fills_while_away()
            self._infer_round_trips_while_away()   # an entry and its exit both filled meanwhile: the account flat
            if getattr(self, "_feeds", None):
                self.register_feeds(self._feeds)   # positions per feed, with the fills just inferred
        self.flush_held_orders()   # an entry left held by the last cycle (its exits never came) goes out
        self.store.pump()
        self._await_commissions()
        if ((self.deferred or not self.replay_settled)
                and not any(getattr(d, "backfilling", False) for d in self._datas())):
            self.replay_settled = True   # once the replay of history has ended (and after, for late exits)
            self._settle_replayed_orders()
        self._book_ready()
        if self.replay_settled and self.sent_earlier - self.restart_checked:
            self._end_part_filled_entries()
        self._check_daily_loss()
        self._alert_while_lost()
        self._watch_feed_stalls()
        self._watch_stale_time_exits()
