"""The research's signals, as pure functions on bar tables and as backtrader indicators.

* ``periods``: year-, quarter- and month-to-date total returns;
* ``drift``: the drifted equity weight of a target mix and the implied rebalancing flow;
* ``volume``: volume against its median on the same session counted from the month end
  of earlier months (month-end / quarter-end spikes);
* ``rotation``: relative strength of one instrument against another over N sessions
  (IWM/SPY small caps, RSP/SPY equal weight, QQQ/SPY the NDX divergence);
* ``indicators``: the same signals as backtrader indicators, computed bar by bar;
* ``filters``: YAML filters any playbook can add to its entry conditions (``filter_feeds`` binds them
  to its feeds; an intraday playbook reads daily legs as of the previous close).

Every value on a day uses bars up to and including that day only (no look-ahead);
the calendar (which session of the month a day is) comes from exchange_calendars.
"""
