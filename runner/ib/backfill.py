"""History before going live: enough completed bars for every indicator's warm-up.

IB caps the duration of one historical request by bar size (1 day of 1-minute
bars, 1 week from 3 minutes, 1 month from 30 minutes, 1 year of daily bars),
so the backfill walks backwards in chunks of that size until it has ``count``
bars or the gateway has no more. Only bars whose period has ended by the
gateway's ``now`` are kept: the bar in progress is built live.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Awaitable, Callable

from runner.ib.bars import Bar, BarSize
from runner.ib.sessions import NEW_YORK, Sessions

UTC = dt.timezone.utc


def request_shape(size: BarSize) -> tuple[str, str]:
    """(durationStr, barSizeSetting) of one chunk for ``size``."""
    if size.daily:
        return "1 Y", "1 day"
    if size.minutes < 3:
        return "1 D", f"{size.minutes} min" if size.minutes == 1 else f"{size.minutes} mins"
    if size.minutes < 30:
        return "1 W", f"{size.minutes} mins"
    return "1 M", f"{size.minutes} mins"


def to_bar(item: Any, size: BarSize) -> Bar:
    """Convert a library BarData (``date`` = date for daily, UTC datetime for intraday) into a Bar."""
    when = item.date
    if size.daily:
        day = when.date() if isinstance(when, dt.datetime) else when
        stamp = dt.datetime.combine(day, dt.time(0), NEW_YORK)
    else:
        stamp = when.astimezone(NEW_YORK) if when.tzinfo else when.replace(tzinfo=UTC).astimezone(NEW_YORK)
    return Bar(stamp, float(item.open), float(item.high), float(item.low), float(item.close), float(item.volume))


def period_end(bar: Bar, size: BarSize, sessions: Sessions) -> dt.datetime:
    """When the period of ``bar`` ends (session close for daily bars, capped at the close intraday)."""
    if size.daily:
        return sessions.close_of(bar.time.date())
    session = sessions.session_of(bar.time)
    end = bar.time + dt.timedelta(minutes=size.minutes)
    return min(end, sessions.close_of(session)) if session else end


def completed(bars: list[Bar], size: BarSize, now: dt.datetime, sessions: Sessions) -> list[Bar]:
    """Sorted, de-duplicated bars whose period ended by ``now``."""
    unique = {b.time: b for b in bars}
    return [unique[t] for t in sorted(unique) if period_end(unique[t], size, sessions) <= now]


async def fetch(history: Callable[..., Awaitable[list]], contract: Any, size: BarSize, count: int,
                now: dt.datetime, sessions: Sessions, max_chunks: int = 60) -> list[Bar]:
    """Walk back from ``now`` in chunks until ``count`` completed bars are known (or history ends).

    ``history(contract, end, duration, bar_size, format_date)`` is the store's request method.
    """
    if count <= 0:
        return []
    duration, setting = request_shape(size)
    format_date = 1 if size.daily else 2
    bars: list[Bar] = []
    end: dt.datetime | str = ""
    for _ in range(max_chunks):
        chunk = [to_bar(item, size) for item in await history(contract, end, duration, setting, format_date)]
        if not chunk:
            break
        earliest = min(b.time for b in chunk)
        bars.extend(chunk)
        if len({b.time for b in bars}) >= count + 1:
            break
        if size.daily and len(chunk) < 200:
            break   # a year holds ~252 sessions: the gateway's history starts inside this chunk
        next_end = (sessions.open_of(earliest.date()) if size.daily else earliest).astimezone(UTC)
        if end != "" and next_end >= end:
            break
        end = next_end
    done = completed(bars, size, now, sessions)
    return done[-count:]


async def current_period(history: Callable[..., Awaitable[list]], contract: Any, size: BarSize,
                         now: dt.datetime, sessions: Sessions) -> tuple[dt.datetime | None, list[Bar]]:
    """The part of the bar in progress at ``now`` that streaming will never show.

    Returns ``(period_start, finer_bars)``: finer bars (1-minute for a daily
    bar, 5-second for intraday) from the period's start up to ``now``, to seed
    the aggregator; or ``(period_start, [])`` when the gateway cannot serve
    them, in which case the caller skips that incomplete bar. ``(None, [])``
    when ``now`` is outside regular hours.
    """
    session = sessions.session_of(now)
    if session is None:
        return None, []
    if size.daily:
        start, finer, step = sessions.open_of(session), "1 min", 60
    else:
        midnight = dt.datetime.combine(session, dt.time(0), NEW_YORK)
        offset = int((now.astimezone(NEW_YORK) - midnight).total_seconds() // 60)
        start = midnight + dt.timedelta(minutes=offset - offset % size.minutes)
        finer, step = "5 secs", 5
    seconds = int((now - start).total_seconds())
    if seconds < step:
        return start, []
    from runner.errors import GatewayError   # local: keeps this module free of error plumbing at import
    try:
        items = await history(contract, "", f"{seconds + step} S", finer, 2)
    except GatewayError:
        return start, []
    bars = []
    for item in items:
        when = item.date if isinstance(item.date, dt.datetime) else None
        if when is None:
            continue
        when = when.astimezone(NEW_YORK)
        if start <= when < now:
            bars.append(Bar(when, float(item.open), float(item.high), float(item.low), float(item.close),
                            float(item.volume)))
    return start, sorted(bars)


async def fetch_span(history: Callable[..., Awaitable[list]], contract: Any, size: BarSize, since: dt.datetime,
                     until: dt.datetime, sessions: Sessions) -> list[Bar]:
    """Completed bars of the periods touching ``since``..``until``, in one request ending at ``until``.

    The explicit end keeps the request from repeating the backfill's (IB refuses identical
    requests within 15 seconds).
    """
    if size.daily:
        days = len(sessions.sessions_between(since.astimezone(NEW_YORK).date(), until.astimezone(NEW_YORK).date()))
        duration = f"{max(days, 1)} D"
    else:
        duration = f"{int(min(86_400, (until - since).total_seconds() + 60 * size.minutes))} S"
        duration = duration if not duration.startswith("0 ") else "60 S"
    _, setting = request_shape(size)
    items = await history(contract, until.astimezone(UTC), duration, setting, 1 if size.daily else 2)
    bars = completed([to_bar(item, size) for item in items], size, until, sessions)
    first = since.astimezone(NEW_YORK)
    return [b for b in bars if period_end(b, size, sessions) > first]
