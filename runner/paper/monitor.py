"""What a running paper session shows: a line per completed bar, status.json, notifications.

:class:`SessionMonitor` is fed on the backtrader thread (order rows from the run log, completed bars
from the :class:`LiveView` analyzer, connectivity from the store, the stop reason from the session)
and keeps :class:`SessionStatus` current; fills, rejects, disconnects and risk stops also go to the
:class:`Notifier` (which sends off this thread and never blocks it).
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

import backtrader as bt
from loguru import logger

from runner.backtest.recorder import _EXECTYPE_NAMES, bar_time
from runner.ib import events
from runner.paper.notify import Notifier
from runner.paper.status_file import SessionStatus

FILLED = {"Partial", "Completed"}
REFUSED = {"Rejected", "Margin"}
NEW_YORK = ZoneInfo("America/New_York")


class SessionMonitor:
    def __init__(self, status: SessionStatus, notifier: Notifier | None = None) -> None:
        self.status = status
        self.notifier = notifier
        self.broker = None
        self.feeds: dict = {}
        self.closes: dict[str, float] = {}
        self._seen: dict[str, int] = {}
        self._start_value: float | None = None
        self._resumed = False
        self._realised = 0.0
        self._connection = "connected"
        self.runlog = None          # the LiveRunLog whose rows feed on_order / on_trades
        self.page = None            # the StatusPage, when --status-port is given
        self.log = logger.bind(component="paper.live")

    def start(self) -> None:
        if self.page is not None:
            self.page.start()

    def close(self) -> None:
        """Final trades.csv (open positions listed as open), queued notifications out, page down."""
        if self.runlog is not None:
            self.runlog.close()
        if self.notifier is not None:
            self.notifier.close()
        if self.page is not None:
            self.page.stop()

    def attach(self, session) -> None:
        """Listen to the session's store and broker, and watch its bars through an analyzer."""
        self.broker, self.feeds = session.broker, session.feeds
        session.broker.on_alert = self.on_alert
        session.store.subscribe(events.Connectivity, self.on_connectivity)
        session.store.subscribe(events.FeedState, self.on_feed_state)
        session.cerebro.addanalyzer(LiveView, monitor=self, _name="live_view")
        self.status.update(state="live", connection={"state": "connected", "since": _now(), "message": ""})
        self._refresh()

    def last_close(self, name: str) -> float | None:
        return self.closes.get(name)

    # -- events ------------------------------------------------------------------
    def on_bar(self, feed, strategy) -> None:
        """A bar of ``feed`` completed and the strategies acted on it."""
        name = feed._name
        if self._seen.get(name) == len(feed):
            return
        self._seen[name] = len(feed)
        close = float(feed.close[0])
        self.closes[name] = close
        if getattr(feed, "backfilling", False):
            return   # history replayed for warm-up: the live view starts with the first live bar
        when = bar_time(feed)
        symbol = getattr(feed.p, "symbol", None) or name
        position = self.broker.getposition(feed).size if self.broker is not None else 0
        working = self._working_orders()
        value = self.broker.getvalue() if self.broker is not None else None
        if self._start_value is None:
            self._start_value = value
        replaying = any(getattr(f, "backfilling", False) for f in self.feeds.values())
        if not self._resumed and not replaying and not getattr(self.broker, "deferred", None):
            # Once the broker has bound the replayed decisions to what the gateway holds.
            self._resumed = True
            self._say_resuming(working)
        pnl = value - self._start_value if value is not None and self._start_value is not None else None
        held = getattr(getattr(self.broker, "positions", {}).get(symbol), "size", position)
        # A symbol two playbooks share (SPY and SPY@1min): the feed's playbook's own part, and the account's sum.
        account = f" (its playbook's; account {symbol} {held:+g})" if held != position else ""
        self.log.info(f"{name} {feed.size} bar ending {when:%Y-%m-%d %H:%M %Z}: close {close:,.2f}, position {symbol} "
                      f"{position:+g}{account}, {len(working)} open order(s), P&L {_money(pnl)} "
                      f"(realised {_money(self._realised)})")
        self.status.merge("last_bar", name, {"time": when.isoformat(), "bar_size": str(feed.size), "close": close})
        self._refresh(working)

    def on_order(self, row: dict) -> None:
        status = row.get("status")
        if status in FILLED:
            self.status.add_fill(row)
            text = (f"{row['strategy']}: {row['side']} {row['filled_size']:g} {row['symbol']} filled at "
                    f"{row['fill_price']:,.2f} ({row['reason'] or row['type']})")
            self.log.info(f"fill: {text}")
            self._tell("fill", text)
        elif status in REFUSED or (status == "Canceled" and self._error_of(row)):
            why = self._error_of(row) or status.lower()
            self._tell("reject", f"{row['strategy']}: {row['side']} {row['size']:g} {row['symbol']} "
                                 f"{row['type']} ({row['reason']}) {status.lower()}: {why}")
        self._refresh()

    def on_trades(self, rows: list[dict]) -> None:
        self._realised = round(sum(r["pnl"] for r in rows if r["exit_reason"] != "open" and r["pnl"] is not None), 2)
        self.status.update(trades=rows)

    def on_connectivity(self, m: events.Connectivity) -> None:
        if m.state == self._connection:
            return
        self._connection = m.state
        self.status.update(connection={"state": m.state, "since": _now(), "message": m.message})
        if m.state == "lost":
            self._tell("disconnect", f"gateway connection lost ({m.message}); trading paused until it is back")
        else:
            self._tell("reconnect", f"gateway connection {m.state.replace('_', ' ')} ({m.message})")

    def on_feed_state(self, m: events.FeedState) -> None:
        """A feed's real-time bars stopped with no error, or flow again (the broker's stall watch): status.json's
        ``stale_feeds`` (the alert itself comes through :meth:`on_alert`)."""
        if m.state == "stalled":
            self.status.merge("stale_feeds", m.feed, {"since": m.since.astimezone(NEW_YORK).isoformat(),
                                                      "detected": _now(), "message": m.text})
        else:
            self.status.drop("stale_feeds", m.feed)
            self.status.add_event("feed_flowing", m.text)

    def on_alert(self, kind: str, text: str) -> None:
        """A loud alert of the broker (``stale_exit``: a time exit due while the gateway has lost IB or its feed
        is stalled; ``feed_stalled``: a feed's real-time bars stopped with no error)."""
        self._tell(kind, text)

    def on_risk_stop(self, why: str) -> None:
        self._tell("risk_stop", f"risk stop: {why}; open orders cancelled, positions flattened, session ending")

    def on_stop(self, reason: str) -> None:
        self.status.update(state="stopped", stop_reason=reason)
        self.status.add_event("stop", reason)

    def _say_resuming(self, working: list[dict]) -> None:
        """At the first live bar: what the session takes over from before (positions, working orders)."""
        broker = self.broker
        held = {}
        for name, feed in self.feeds.items():
            size = broker.getposition(feed).size
            if size and (name in broker.feed_positions or name == getattr(feed.p, "symbol", name)):
                held[name] = size
        if not held and not working:
            return
        parts = [f"{name} {size:+g}" for name, size in held.items()]
        by_strategy: dict[str, list[str]] = {}
        for o in working:
            price = o.get("stop_price") or o.get("limit_price")
            by_strategy.setdefault(o["strategy"], []).append(
                f"{o['reason'] or o['type']} {o['side']} {o['size']:g} {o['symbol']}" + (f" @ {price:,.2f}" if price else ""))
        orders = "; ".join(f"{strategy}: {', '.join(items)}" for strategy, items in by_strategy.items())
        self.log.info(f"resuming: positions {', '.join(parts) or 'flat'}; working orders {orders or 'none'} "
                      f"(followed at the gateway, not sent again)")
        self.status.add_event("resume", f"positions {', '.join(parts) or 'flat'}; working orders {orders or 'none'}")

    # -- helpers -------------------------------------------------------------------
    def _tell(self, kind: str, text: str) -> None:
        self.status.add_event(kind, text)
        if self.notifier is not None:
            self.notifier.send(kind, text)

    def _error_of(self, row: dict) -> str | None:
        broker = self.broker
        if broker is None:
            return None
        ref = broker.refs.get(row.get("order_id"))
        error = broker.errors.get(ref) if ref else None
        return f"{error[0]} {error[1]}" if error else None

    def _working_orders(self) -> list[dict]:
        broker = self.broker
        if broker is None:
            return []
        rows = []
        for ref, order in list(broker.orders.items()):
            if not order.alive():
                continue
            owner = order.owner
            prices = {}
            if order.exectype in (bt.Order.Stop, bt.Order.StopLimit):
                prices["stop_price"] = round(order.created.price, 4)
            if order.exectype == bt.Order.Limit:
                prices["limit_price"] = round(order.created.price, 4)
            if order.exectype == bt.Order.StopLimit and order.created.pricelimit:
                prices["limit_price"] = round(order.created.pricelimit, 4)
            rows.append({"order_ref": ref, "strategy": getattr(owner, "label", None) or type(owner).__name__,
                         "symbol": order.data._name, "side": "buy" if order.isbuy() else "sell",
                         "type": _EXECTYPE_NAMES.get(order.exectype, str(order.exectype)),
                         "size": abs(order.created.size), **prices,
                         "status": order.getstatusname(), "reason": order.info.get("reason", "")})
        return rows

    def _refresh(self, working: list[dict] | None = None) -> None:
        broker = self.broker
        if broker is None:
            return
        positions = {symbol: {"size": p.size, "price": p.price} for symbol, p in broker.positions.items() if p.size}
        value = broker.getvalue()
        start = self._start_value if self._start_value is not None else value
        self.status.update(positions=positions, working_orders=working if working is not None else self._working_orders(),
                           pnl={"value": round(value, 2), "start_value": round(start, 2),
                                "total": round(value - start, 2), "realised": self._realised})


class LiveView(bt.Analyzer):
    """Tells the monitor about each completed bar of the strategy's feeds once every strategy acted on it.

    Each strategy has its view and every strategy sees every feed; cerebro runs the strategies one after
    the other, each followed by its analyzers, so only the last strategy's view speaks: status.json's last
    bar then means that every playbook has acted on it (sent what it decided), not only the first.
    """

    params = (("monitor", None),)

    def next(self):
        strategies = self.strategy.env.runningstrats
        if strategies and self.strategy is not strategies[-1]:
            return
        for feed in self.strategy.datas:
            if len(feed):
                self.p.monitor.on_bar(feed, self.strategy)


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+,.2f}"


def _now() -> str:
    from runner.paper.status_file import now_text

    return now_text()


def session_monitor(cfg, folder, status_port: int | None = None) -> SessionMonitor:
    """The monitor of a paper session: status.json in ``folder``, the live files, the webhook, the page."""
    from runner.paper.live_files import LiveRunLog
    from runner.paper.status_page import StatusPage

    notify = getattr(cfg, "notify", None)
    notifier = Notifier(notify, cfg.name) if notify is not None and notify.webhook is not None else None
    monitor = SessionMonitor(SessionStatus(cfg.name, folder), notifier)
    monitor.runlog = LiveRunLog(folder=folder, on_order=monitor.on_order, on_trades=monitor.on_trades,
                                last_close=monitor.last_close)
    monitor.page = StatusPage(monitor.status, status_port) if status_port is not None else None
    return monitor
