"""What every flowbot strategy shares: its feed by name, validated parameters, label and log.

Playbooks declare ``Params`` (a pydantic model) once; ``__init__`` validates
the backtrader params against it, so a strategy used directly with backtrader
gets the same checks as one built from a YAML file.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import ClassVar
from zoneinfo import ZoneInfo

import backtrader as bt
import pandas as pd
from loguru import logger

from strategies.holding_windows import WINDOW_COLUMNS
from strategies.market_calendar import NEW_YORK
from strategies.params import PlaybookParams


class FlowbotStrategy(bt.Strategy):
    Params: ClassVar[type[PlaybookParams]] = PlaybookParams
    #: Roles of optional extra data feeds this playbook understands (e.g. "bonds").
    extra_feeds: ClassVar[tuple[str, ...]] = ()

    params = (
        ("symbol", None),      # name of the instrument's data feed
        ("label", None),       # strategy name in outputs (defaults to the class name)
        ("feed_names", None),  # {role: feed name} for extra_feeds
    )

    #: Columns of :meth:`holding_windows`.
    WINDOW_COLUMNS: ClassVar[tuple[str, ...]] = WINDOW_COLUMNS

    @classmethod
    def holding_windows(cls, params: PlaybookParams, bars):
        """The playbook's windows that ``bars`` (a bar table) cover, one row each (a DataFrame):

        ``window`` (its key), ``year`` (the year it belongs to), ``first_session``
        and ``entry_at`` (the earliest fill the playbook can get: that session's
        ``open`` or ``close``), ``last_session`` (it is flat by that session's
        close), ``hold`` (the instrument held long over exactly that span, a
        fraction) and ``unconditional`` (the playbook's side of it taken every
        window, without its filters). The report compares trades with these.
        """
        return pd.DataFrame(columns=list(cls.WINDOW_COLUMNS))

    def __init__(self):
        names = {d._name: d for d in self.datas}
        if self.p.symbol is None:
            self.bars = self.datas[0]
        elif self.p.symbol in names:
            self.bars = names[self.p.symbol]
        else:
            raise ValueError(f"no data feed named {self.p.symbol!r}; feeds are {sorted(names)}")
        self.extra = {role: names[name] for role, name in (self.p.feed_names or {}).items()}
        self.config = self.Params(**{name: getattr(self.p, name) for name in self.Params.model_fields})
        self.label = self.p.label or type(self).__name__
        self.log = logger.bind(strategy=self.label, symbol=self.p.symbol)

    def tell(self, text: str) -> None:
        """A decision or a fill, at INFO. While a live feed replays its history (its ``backfilling`` is
        true), the replayed decision was already told by the run that made it: DEBUG, marked as replayed,
        so a restart does not print the original signal again as if it were new."""
        if getattr(self.bars, "backfilling", False):
            self.log.debug(f"replayed: {text}")
        else:
            self.log.info(text)

    @staticmethod
    def exchange_time(when: dt.datetime) -> str:
        """A bar time (backtrader's naive New York time) as the log says it: with its zone."""
        return f"{when.replace(tzinfo=ZoneInfo(NEW_YORK)):%Y-%m-%d %H:%M %Z}"

    @staticmethod
    def order_price(order: bt.Order | None, fallback: float | None) -> float | None:
        """The price ``order`` went out at (a broker may have moved it onto the tick), else ``fallback``."""
        price = getattr(getattr(order, "created", None), "price", None)
        return float(price) if price else fallback

    def size_by_risk(self, stop_distance: float, price: float, buy: bool | None = None) -> int:
        """Whole units risking ``risk_pct`` of equity over ``stop_distance``, capped at
        ``max_position_pct`` of equity at ``price``; 0 if the stop distance is unusable. ``buy``: the
        entry's side, for a broker's per-symbol limit that counts what the account already holds."""
        if not math.isfinite(stop_distance) or stop_distance <= 0:
            return 0
        value = self.broker.getvalue()
        by_risk = value * self.config.risk_pct / 100.0 / stop_distance
        by_value = value * self.config.max_position_pct / 100.0 / price
        size = int(max(0, math.floor(min(by_risk, by_value))))
        return self._within_broker_limits(size, stop_distance, price, buy)

    def _within_broker_limits(self, size: int, stop_distance: float, price: float, buy: bool | None = None) -> int:
        """Cap ``size`` to the limits a broker declares (``max_position_value``, ``max_daily_loss``
        attributes, e.g. the paper broker's risk limits), saying so; brokers without them change nothing."""
        caps = []
        value_cap = getattr(self.broker, "max_position_value", None)
        room = getattr(self.broker, "position_value_room", None)
        room = room(self.bars, buy, price) if value_cap and callable(room) and buy is not None else None
        if room is not None and room[1]:
            caps.append((math.floor(room[0] / price), f"max_position_value {value_cap:,.0f} per symbol "
                                                      f"({room[1]:,.0f} already held in the account)"))
        elif value_cap:
            caps.append((math.floor(value_cap / price), f"max_position_value {value_cap:,.0f}"))
        loss_cap = getattr(self.broker, "max_daily_loss", None)
        if loss_cap:
            caps.append((math.floor(loss_cap / stop_distance), f"max_daily_loss {loss_cap:,.0f} over the stop"))
        for cap, why in caps:
            if size > cap:
                self.log.warning(f"size {size} capped to {max(cap, 0)} by the risk limit {why}")
                size = max(cap, 0)
        return size

    def _tag(self, order: bt.Order | None, reason: str) -> None:
        """Label an order for the run recorder and the paper journal."""
        if order is not None:
            order.addinfo(reason=reason, strategy=self.label)
