"""The configured filters of a playbook bound to its feeds (a mixin of the playbook classes).

A leg names the playbook's own instrument or one of its extra feeds by role.
Daily playbooks read a leg naming the instrument from the instrument's own bars.
An intraday playbook (``vwap_close_fade``) decides on 1-minute bars while the
signals are measured in sessions, so every leg it names, its own symbol
included, is a daily feed declared under ``feeds:`` (``feeds: {SPY: cache:SPY,
IWM: cache:IWM}``). Daily bars are stamped at the end of their session, so a
decision inside a session reads the filters as of the previous session's close:
never the session being traded.
"""
from __future__ import annotations

from typing import ClassVar

from strategies.conditions import Condition
from strategies.signals.filters import FilterCheck


def instrument_name(symbol: str) -> str:
    """The instrument a feed name stands for: paper trading names a second bar size of a symbol
    ``SPY@1min`` (runner.paper.feed_plan); filters name the symbol."""
    return symbol.split("@", 1)[0]


class SignalFilters:
    """``filter_checks`` (one :class:`FilterCheck` per configured filter) and their verdict."""

    #: False: a leg naming the instrument must be a declared (daily) feed, not the instrument's own bars.
    filters_read_instrument: ClassVar[bool] = True

    def bind_filters(self) -> None:
        self.filter_checks = [FilterCheck(spec, self._feed_of_leg, self.filter_instrument)
                              for spec in self.config.filters]

    @property
    def filter_instrument(self) -> str:
        return instrument_name(self.p.symbol or self.bars._name)

    def _feed_of_leg(self, name: str):
        """The feed a filter leg names: an extra feed by role, or the instrument itself (daily playbooks)."""
        if name in self.extra:
            return self.extra[name]
        if self.filters_read_instrument and name in (self.p.symbol, self.bars._name, self.filter_instrument):
            return self.bars
        if name == self.filter_instrument:
            raise ValueError(f"filter leg {name!r}: {type(self).__name__} decides on intraday bars and its "
                             f"filters read daily bars; declare the instrument's daily bars as a feed, e.g. "
                             f"feeds: {{{name}: cache:{name}}}")
        raise ValueError(f"filter leg {name!r} is neither the instrument {self.filter_instrument!r} "
                         f"nor an extra feed ({sorted(self.extra)})")

    def filter_conditions(self) -> list[Condition]:
        """Each configured filter as a condition on the current bar."""
        return [check.condition() for check in self.filter_checks]

    def filters_verdict(self) -> tuple[bool, str]:
        """Whether every configured filter passes on the current bar, and each one's value."""
        return all(c.passes() for c in self.filter_checks), "; ".join(c.describe() for c in self.filter_checks)

    def filters_as_of(self) -> str | None:
        """The session of the newest bar the filters read, and any leg whose last bar is older (a gap in
        its data, a bar a live session skipped): ``2018-03-26 (QQQ 2018-03-23)``. None before any bar."""
        days = {name: feed.datetime.date(0) for check in self.filter_checks
                for name, feed in zip(check.leg_names, check.feeds) if len(feed)}
        if not days:
            return None
        newest = max(days.values())
        stale = [f"{name} {day}" for name, day in days.items() if day < newest]
        return str(newest) + (f" ({', '.join(stale)})" if stale else "")
