"""Which member of an OCA group filled while no run was connected, from the bars the bot backfilled (pure, no I/O).

A protective bracket (a stop and a target in one OCA group) that closed the position while no run was
connected leaves no trace at the gateway on a later day: both orders are gone from its open orders and its
reports of today (executions, completed orders) do not show them. The price history since the orders worked
tells which one filled:

- an order works from after the bar it was decided on (the ``<bar time>`` of its orderRef) and, an attached
  exit, from its entry's execution;
- a bar reaches a stop when its range touches the stop price (a sell stop: low <= stop; a buy stop:
  high >= stop), a limit when the range touches the limit (a sell limit: high >= limit; a buy limit:
  low <= limit); a bar that opens beyond the price fills the order at its open (the order's own price
  otherwise); a market order fills at the open of its first bar, a market-on-close order at its close;
- the member reached first fills; within one bar an open comes before the range, the range before the close;
- a bar whose range reaches a stop and a limit (neither at its open) is ambiguous: the stop is taken, the
  conservative choice (the worse P&L), and the verdict says so;
- no bar reaching any member (or no bar after the orders worked): no verdict; the caller guesses and says so.

An entry whose exit also filled while no run was connected leaves the account flat (runner/ib/broker_round_trips.py):
``entry_filled`` says whether and when it filled (a market order at the open of the first bar after it was
decided, a market-on-close order at that session's close, a limit once a bar reaches it, a DAY limit only in its
first session), ``covers`` whether the bars are evidence at all; then ``which_filled`` decides its exits.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from runner.ib.bars import Bar
from runner.ib.sessions import NEW_YORK

_DECISION_TIME = re.compile(r":(\d{8}T\d{6}):")
AT_OPEN, IN_RANGE, AT_CLOSE = 0, 1, 2


@dataclass(frozen=True)
class Verdict:
    """``order_ref`` filled at ``price``; ``how``: the evidence, for the journal and the log."""

    order_ref: str
    price: float
    how: str
    ambiguous: bool = False
    time: dt.datetime | None = None   # when in the bars it filled (the journal's fill time)


def decided_at(order_ref: str) -> dt.datetime | None:
    """The time of the bar the order was decided on (tz-aware New York), from its orderRef; None if it has none."""
    found = _DECISION_TIME.search(order_ref + ":")
    if found is None:
        return None
    return dt.datetime.strptime(found.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=NEW_YORK)


def _reach(row: Mapping, bar: Bar) -> tuple[int, float, str] | None:
    """(when in the bar, fill price, what happened) if ``bar`` fills ``row``, else None."""
    kind, buy = row["order_type"], row["action"] == "BUY"
    if kind == "STP" and row["aux_price"] is not None:
        stop = float(row["aux_price"])
        if (bar.open >= stop) if buy else (bar.open <= stop):
            return AT_OPEN, bar.open, f"opened at {bar.open:g}, through the stop {stop:g}: filled at the open"
        if (bar.high >= stop) if buy else (bar.low <= stop):
            extreme = f"high {bar.high:g}" if buy else f"low {bar.low:g}"
            return IN_RANGE, stop, f"{extreme} reached the stop {stop:g}: filled at the stop"
    elif kind == "LMT" and row["limit_price"] is not None:
        limit = float(row["limit_price"])
        if (bar.open <= limit) if buy else (bar.open >= limit):
            return AT_OPEN, bar.open, f"opened at {bar.open:g}, through the limit {limit:g}: filled at the open"
        if (bar.low <= limit) if buy else (bar.high >= limit):
            extreme = f"low {bar.low:g}" if buy else f"high {bar.high:g}"
            return IN_RANGE, limit, f"{extreme} reached the limit {limit:g}: filled at the limit"
    elif kind == "MKT":
        return AT_OPEN, bar.open, f"a market order: filled at the open {bar.open:g}"
    elif kind == "MOC":
        return AT_CLOSE, bar.close, f"a market-on-close order: filled at the close {bar.close:g}"
    return None


def _first_reach(row: Mapping, bars: Sequence[tuple[Bar, dt.datetime]], since: dt.datetime):
    """The first bar (index, when in it, price, what) after ``since`` that fills ``row``; None if none does."""
    for i, (bar, end) in enumerate(bars):
        if end <= since:
            continue
        reach = _reach(row, bar)
        if reach is not None:
            return (i, *reach)
    return None


def _daily(bar: Bar, end: dt.datetime) -> bool:
    return end - bar.time >= dt.timedelta(hours=6)


def _fill_time(bar: Bar, end: dt.datetime, moment: int) -> dt.datetime:
    """When in ``bar`` a fill at ``moment`` happened: its open (a session's 09:30), else its end."""
    if moment != AT_OPEN:
        return end
    if _daily(bar, end):
        return bar.time.astimezone(NEW_YORK).replace(hour=9, minute=30, second=0, microsecond=0)
    return bar.time


def _when(bar: Bar, end: dt.datetime) -> str:
    if _daily(bar, end):
        return f"the {bar.time:%Y-%m-%d} session"
    return f"the {bar.time.astimezone(NEW_YORK):%Y-%m-%d %H:%M} bar"


def which_filled(rows: Iterable[Mapping], bars: Sequence[tuple[Bar, dt.datetime]],
                 working_from: Mapping[str, dt.datetime | None]) -> Verdict | None:
    """Which of ``rows`` (journal order rows of one OCA group) filled first in ``bars`` (oldest first, each with
    its period's end); ``working_from``: orderRef -> when it began to work (None: unknown, no evidence)."""
    bars = sorted(bars, key=lambda b: b[0].time)
    reached = []
    for row in rows:
        since = working_from.get(row["order_ref"])
        hit = _first_reach(row, bars, since) if since is not None else None
        if hit is not None:
            reached.append((hit[0], hit[1], 0 if row["order_type"] == "STP" else 1, hit, row))
    if not reached:
        return None
    reached.sort(key=lambda r: r[:3])
    first = reached[0]
    index, moment, _, (_, _, price, what), row = first
    bar, end = bars[index]
    others = [r for r in reached[1:] if r[:2] == (index, moment)]
    if others and moment == IN_RANGE:
        other = others[0][4]
        kind = "stop" if row["order_type"] == "STP" else row["order_type"]
        return Verdict(row["order_ref"], price,
                       f"ambiguous: {_when(bar, end)} reached both the {row['order_type']} {row['order_ref']} "
                       f"({what}) and the {other['order_type']} {other['order_ref']} ({others[0][3][3]}); which "
                       f"came first is unknown: assumed the {kind} filled (the conservative choice)", ambiguous=True,
                       time=_fill_time(bar, end, moment))
    return Verdict(row["order_ref"], price, f"from the bars since it worked: on {_when(bar, end)}, {what}, before "
                                            f"any other order of its OCA group", time=_fill_time(bar, end, moment))


def covers(bars: Sequence[tuple[Bar, dt.datetime]], since: dt.datetime | None) -> bool:
    """The bars reach back to ``since`` and go on after it: evidence of what an order sent then did."""
    return bool(since is not None and bars and min(b.time for b, _ in bars) <= since
                and any(end > since for _, end in bars))


def entry_filled(row: Mapping, bars: Sequence[tuple[Bar, dt.datetime]],
                 since: dt.datetime) -> tuple[Verdict, dt.datetime] | None:
    """Whether an entry that worked from ``since`` filled in ``bars`` (oldest first, each with its period's end):
    (the verdict, when its exits began to work), or None (no fill in the bars).

    A market order fills at the open of the first bar after ``since``; a market-on-close order at the close of
    that bar's session (None while the session is not over in the bars); a limit order when a bar after
    ``since`` reaches its price (a DAY limit only in that first session: it expires at its close); any other
    type: None (its fill depends on more than the bars tell)."""
    bars = sorted(bars, key=lambda b: b[0].time)
    after = [(bar, end) for bar, end in bars if end > since]
    if not after:
        return None
    kind, ref = row["order_type"], row["order_ref"]
    first, first_end = after[0]
    session = first.time.astimezone(NEW_YORK).date()
    if kind == "MKT":
        how = f"from the bars: a market order, filled at the open {first.open:g} of {_when(first, first_end)}"
        return Verdict(ref, first.open, how, time=_fill_time(first, first_end, AT_OPEN)), first.time
    if kind == "MOC":
        if _daily(first, first_end):
            bar, end = first, first_end
        else:
            same = [(b, e) for b, e in after if b.time.astimezone(NEW_YORK).date() == session]
            bar, end = same[-1]
            later = len(same) < len(after)
            if not later and end.astimezone(NEW_YORK).time() < dt.time(16, 0):
                return None   # the session is not over in the bars
        how = (f"from the bars: a market-on-close order, filled at the close {bar.close:g} of the "
               f"{session:%Y-%m-%d} session")
        return Verdict(ref, bar.close, how, time=end), end
    if kind == "LMT":
        day_only = (row["tif"] or "DAY") == "DAY"
        for bar, end in after:
            if day_only and bar.time.astimezone(NEW_YORK).date() != session:
                return None   # a DAY limit expired unfilled at the close of its session
            reach = _reach(row, bar)
            if reach is not None:
                moment, price, what = reach
                how = f"from the bars since it was sent: on {_when(bar, end)}, {what}"
                return Verdict(ref, price, how, time=_fill_time(bar, end, moment)), bar.time
    return None
