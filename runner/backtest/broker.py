"""The backtest broker: backtrader's BackBroker with the cost model and order rules the README states.

What it does, precisely:

* **Slippage** (``broker.slippage_pct``): every fill except limit orders pays
  exactly ``slippage_pct`` percent adverse to the price it would otherwise get
  (the open for market orders, the stop price or a gapped open for stops, the
  close for market-on-close orders), also when that lands outside the bar's
  range (backtrader would cap it at the high/low and skips it for close
  orders). Limits fill at their price or better, without slippage.
* **Market-on-close on minute bars** fills in the closing auction of the
  session it was sent in, at the official close, even when the data has no
  bar for the session's last minute: the price is then the close of the
  session's last bar in the data (the best estimate available of the closing
  price), stamped at the official close. It is handled before any other order
  of the next bar, so a day order expiring at the close cannot cancel it.
* **Day market orders** (``valid`` set, minute bars) expire when the session
  ends before they could fill; backtrader would fill them at the next
  session's first open.
* **Exits follow the entry's fill**: exits tagged ``entry_ref`` keep their
  distance from the entry's decision price (``anchor``) and move with the
  actual fill, before they are checked on the entry's bar.
* **Cash check**: only a bracket's entry is checked (see :meth:`check_submitted`).
"""
from __future__ import annotations

import collections

import backtrader as bt

from runner.backtest.commission import PerShareCommission
from runner.config import RunConfig


class BacktestBroker(bt.brokers.BackBroker):
    """backtrader's broker with the corrections listed in the module docstring."""

    def check_submitted(self):
        # backtrader checks a bracket's exits as if each were a new trade on top of the entry (a
        # short with a stop, a target and a market-on-close exit reads as buying three times its
        # size) and rejects the bracket. The exits can only close what their entry opens, so, as at
        # IB, only the entry is checked; the exits follow their entry's fate.
        if not self.submitted:   # most bars (called twice a bar: here and by BackBroker.next)
            return
        children = [o for o in self.submitted if o.parent is not None and o.parent.ref != o.ref]
        if children:
            self.submitted = collections.deque(o for o in self.submitted if o not in children)
        super().check_submitted()
        for child in children:
            if child.parent.ref in self._pchildren and child.parent.alive():
                self.submit_accept(child)
            else:
                child.reject()
                self.notify(child)

    def next(self):
        while self._toactivate:
            self._toactivate.popleft().activate()
        if self.p.checksubmit:
            self.check_submitted()
        if self.pending:   # nothing to expire or to move forward on most bars
            self._expire_day_market_orders()
            # A market-on-close order whose session ended (its last minute bar missing) fills before
            # anything else of this bar: the closing auction came first.
            due = [o for o in self.pending if self._close_past_due(o)]
            if due:
                self.pending = collections.deque(due + [o for o in self.pending if o not in due])
        super().next()

    def _expire_day_market_orders(self) -> None:
        for order in [o for o in self.pending if o.exectype == bt.Order.Market and o.valid
                      and not getattr(o.data, "daily", True) and o.data.datetime[0] > o.valid]:
            self.pending.remove(order)
            order.status = bt.Order.Expired
            order.executed.dt = order.data.datetime[0]
            self.notify(order)
            self._ococheck(order)
            self._bracketize(order, cancel=True)

    @staticmethod
    def _close_past_due(order) -> bool:
        return (order.exectype == bt.Order.Close and not getattr(order.data, "daily", True)
                and order.dteos and order.data.datetime[0] > order.dteos and len(order.data) > 1
                and order.created.dt < order.data.datetime[-1] <= order.dteos)

    def _try_exec_close(self, order, pclose):
        data = order.data
        dt0 = data.datetime[0]
        if dt0 <= order.created.dt:   # can only execute after creation time
            order.pannotated = pclose
            return
        if not getattr(data, "daily", True) and dt0 > order.dteos:
            if self._close_past_due(order):
                self._execute(order, ago=-1, price=self._slipped(order, float(data.close[-1])))
            return   # created after its session's last bar in the data: nothing to fill at
        if dt0 >= order.dteos:
            self._execute(order, ago=0, price=self._slipped(order, pclose))
            return
        order.pannotated = pclose

    def _slipped(self, order, price: float) -> float:
        perc = self.p.slip_perc or 0.0
        return price * (1.0 + perc) if order.isbuy() else price * (1.0 - perc)

    def _execute(self, order, ago=None, price=None, cash=None, position=None, dtcoc=None):
        result = super()._execute(order, ago=ago, price=price, cash=cash, position=position, dtcoc=dtcoc)
        anchor = order.info.get("anchor") if ago is not None else None
        if anchor is not None and order.status == bt.Order.Completed:
            shift = order.executed.price - anchor
            for other in list(self.pending) + list(self.submitted):
                if other is not None and other.info.get("entry_ref") == order.ref and other.created.price is not None:
                    other.created.price += shift
                    other.price = other.created.price
        return result


def configure_backtest_broker(broker: bt.brokers.BackBroker, cfg: RunConfig) -> None:
    broker.setcash(cfg.broker.cash)
    commission = cfg.broker.commission
    broker.addcommissioninfo(PerShareCommission(per_share=commission.per_share, minimum=commission.minimum,
                                                maximum_pct=commission.maximum_pct))
    if cfg.broker.slippage_pct:
        # The full percentage on opens, stops and closes, even outside the bar's range; never on limits.
        broker.set_slippage_perc(cfg.broker.slippage_pct / 100.0, slip_open=True, slip_limit=False,
                                 slip_match=True, slip_out=True)
    # Orders are checked against cash when submitted, as a broker would.
    broker.set_checksubmit(True)
