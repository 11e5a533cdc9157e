"""Real-time bars that stop with the socket up and no error (issue 10), inside :class:`runner.ib.broker.IBBroker`.

IB's real-time bar subscription can die silently, or the market data farm drop, without any 1100:
orders still go out, reqCurrentTime still answers, only the bars stop, and the bot would wait stale
to the end with its positions open. Each tick (``next``) the broker asks, for every live feed, how
long its symbol's stream has been silent on the gateway's clock (the last reqCurrentTime answer, not
moved on by the local clock: a paused simulator or a slow machine never counts as silence) against
the bounds of :mod:`runner.ib.feed_stall`. Nothing is watched while the gateway has lost IB (1100:
runner/ib/broker_stale.py has that case), and the count starts afresh when connectivity is back.

- Stalled: an ERROR naming the feed and how long it has been silent, the feed marked stalled (it
  closes no bar on the clock meanwhile: a silent slot is no sign that the bar is over; status.json
  shows it through an :class:`events.FeedState`), ``on_alert("feed_stalled", text)`` (the webhook),
  and its real-time bars requested again (``store.restart_bars``: the gap since the last bar
  re-fetched from history, as after a reconnect). A new subscription that stays silent by the same
  rule (three more bars; for a daily feed, another session closed without a bar) is requested again,
  up to ``RESUBSCRIBE_LIMIT`` times a stall; then an ERROR and a second ``feed_stalled`` alert say
  the feed stays stale until IB sends bars again (check the market data farm in IB Gateway).
- A time exit falling due while its playbook's feed is stalled is the 1100 case: the broker's
  stale-exit machinery alerts it, holds the playbook's own time exit and flattens at market at the
  first chance (orders can go out: after one more gateway clock answer).
- Flowing again (a bar streamed after the silence): an INFO line, the stalled mark cleared, and
  ``on_alert("feed_flowing", text)``: who was told of the stall hears that it is over.
"""
from __future__ import annotations

import datetime as dt

from runner.ib import events
from runner.ib.feed_stall import said, stalled_for

#: Real-time bars requested again at most this many times in one stall of a symbol.
RESUBSCRIBE_LIMIT = 3


class FeedStalls:
    def _init_feed_stalls(self) -> None:
        self.stalled_feeds: dict[str, dt.datetime] = {}   # feed name -> end of its last bar before the silence
        self._watch_from: dt.datetime | None = None      # silence counts from here (start, connectivity back)
        self._requested: dict[str, tuple[int, dt.datetime]] = {}   # symbol -> (requests, last) in its stall
        self.feed_stall_watch = True
        self.store.subscribe(events.Connectivity, self._restart_stall_watch)

    def _restart_stall_watch(self, m: events.Connectivity) -> None:
        self._watch_from = None   # the next clock answer starts the count anew

    def _watch_feed_stalls(self) -> None:
        now = self.gateway_time
        if not self.feed_stall_watch or now is None or self.paused:
            return
        if self._watch_from is None:
            self._watch_from = now
            return
        for feed in self._datas():
            if getattr(feed, "aggregator", None) is None or feed.backfilling or feed.finished:
                continue
            symbol = self._symbol(feed)
            streamed = self.store.streamed_until(symbol)
            heard = max(streamed, self._watch_from) if streamed is not None else self._watch_from
            name = feed._name
            if name in self.stalled_feeds:
                if streamed is not None and streamed > self.stalled_feeds[name]:
                    self._feed_flowing(feed, name, symbol, now)
                else:
                    self._request_again_if_silent(feed, name, symbol, now)
                continue
            silence = stalled_for(feed.size, feed.sessions, now, heard)
            if silence is not None:
                self._feed_stalled(feed, name, symbol, heard, silence)

    def _feed_stalled(self, feed, name: str, symbol: str, heard: dt.datetime, silence: dt.timedelta) -> None:
        self.stalled_feeds[name] = heard
        feed.stalled = True
        again = symbol not in self._requested and self.store.restart_bars(symbol)
        if again:
            self._requested[symbol] = (1, self.gateway_time)
        text = (f"{name}: no real-time bar of {symbol} for {said(silence)} (since {_ny(heard)}, gateway time), "
                f"the connection up and no error from the gateway: the {feed.size} feed is stale; "
                + ("its real-time bars are requested again" if again else "its real-time bars were already "
                                                                            "requested again")
                + "; a time exit falling due meanwhile is flattened at market")
        self.log.error(text)
        self.store.post(events.FeedState(name, "stalled", heard, text))
        self._tell_alert(text, kind="feed_stalled")

    def _request_again_if_silent(self, feed, name: str, symbol: str, now: dt.datetime) -> None:
        """The new subscription is silent too, by the rule that found the stall: ask once more, or give up."""
        count, last = self._requested.get(symbol, (0, None))
        if last is None or count > RESUBSCRIBE_LIMIT or stalled_for(feed.size, feed.sessions, now, last) is None:
            return
        if count == RESUBSCRIBE_LIMIT:
            self._requested[symbol] = (count + 1, now)
            text = (f"{name}: still no real-time bar of {symbol} since {_ny(self.stalled_feeds[name])} after "
                    f"{count} new subscriptions: the feed stays stale until IB sends bars again (check the "
                    f"market data farms in IB Gateway); a time exit falling due is flattened at market")
            self.log.error(text)
            self._tell_alert(text, kind="feed_stalled")
            return
        if self.store.restart_bars(symbol):
            self._requested[symbol] = (count + 1, now)
            self.log.warning(f"{name}: the new subscription to {symbol}'s real-time bars is silent too; requested "
                             f"again ({count + 1} of {RESUBSCRIBE_LIMIT})")

    def _feed_flowing(self, feed, name: str, symbol: str, now: dt.datetime) -> None:
        heard = self.stalled_feeds.pop(name)
        feed.stalled = False
        if not any(self._symbol(f) == symbol for f in self._datas() if f._name in self.stalled_feeds):
            self._requested.pop(symbol, None)
        text = f"{name}: real-time bars of {symbol} flowing again after {said(now - heard)} without one"
        self.log.info(text)
        self.store.post(events.FeedState(name, "flowing", heard, text))
        self._tell_alert(text, kind="feed_flowing")

    def _stalled_owners(self) -> list:
        """Playbooks with a time exit whose own feed is stalled."""
        if not self.stalled_feeds:   # the usual case, checked on every tick: no scan of the session's orders
            return []
        return [o for o in self._exit_owners()
                if getattr(getattr(o, "bars", None), "_name", None) in self.stalled_feeds]


def _ny(when: dt.datetime) -> str:
    from runner.ib.sessions import NEW_YORK

    return when.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S %Z")
