"""History before going live: enough completed bars for every indicator's warm-up.

IB caps the duration of one historical request by bar size (1 day of 1-minute
bars, 1 week from 3 minutes, 1 month from 30 minutes, 1 year of daily bars),
so the backfill walks backwards in chunks of that size until it has ``count``
bars or the gateway has no more. Only bars whose period has ended by the
gateway's ``now`` are kept: the bar in progress is built live.

A backfill slowed by pacing can take minutes, during which bars complete:
:func:`backfill_to_now` asks the gateway's time again afterwards and fetches
exactly the bars that completed meanwhile (each once, none skipped) before it
seeds the bar in progress.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Awaitable, Callable, NamedTuple

from loguru import logger

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

    Returns ``(period_start, finer_bars)``: the completed finer bars (1-minute
    for a daily bar, 5-second for intraday) from the period's start up to ``now``, to seed
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
        if start <= when and when + dt.timedelta(seconds=step) <= now:   # the finer bar in progress is streamed
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


#: Seconds of one finer bar seeding the bar in progress (see :func:`current_period`).
def finer_seconds(size: BarSize) -> int:
    return 60 if size.daily else 5


def last_period_end(size: BarSize, now: dt.datetime, sessions: Sessions) -> dt.datetime | None:
    """End of the latest bar period that ended at or before ``now``."""
    session = sessions.session_of(now)
    if session is not None and not size.daily:
        midnight = dt.datetime.combine(session, dt.time(0), NEW_YORK)
        offset = int((now.astimezone(NEW_YORK) - midnight).total_seconds() // 60)
        start = midnight + dt.timedelta(minutes=offset - offset % size.minutes)
        if start > sessions.open_of(session):
            return start
    return sessions.previous_close(now)


class Startup(NamedTuple):
    """Where a feed starts: completed ``bars`` (oldest first), then the period in progress at ``now``
    (``period_start``, or None outside regular hours) seeded with ``seed`` (finer, completed bars)."""

    bars: list[Bar]
    now: dt.datetime
    period_start: dt.datetime | None
    seed: list[Bar]


async def backfill_to_now(history: Callable[..., Awaitable[list]], clock: Callable[[], Awaitable[dt.datetime]],
                          contract: Any, size: BarSize, count: int, sessions: Sessions,
                          rounds: int = 6) -> Startup:
    """``count`` completed bars, then every bar completed while they were being fetched, then the seed.

    ``clock()`` is the gateway's time. After the backfill (and after each seed) the time is asked again;
    when a period ended meanwhile, the bars since the last one known are requested ending at that time
    (:func:`fetch_span`), so a slow, paced backfill loses no completed bar and repeats none. Bounded by
    ``rounds``; the last round's seed stands (the live stream's gap fill covers the rest).
    """
    now = await clock()
    bars = await fetch(history, contract, size, count, now, sessions)
    base = period_end(bars[-1], size, sessions) if bars else now   # bars ending after ``base`` are new
    checked = base
    period_start, seed = None, []
    for _ in range(rounds):
        ended = last_period_end(size, now, sessions)
        if ended is not None and ended > checked:
            missing = await fetch_span(history, contract, size, base, now, sessions)
            new = [b for b in missing if period_end(b, size, sessions) > base]
            if new:
                logger.bind(symbol=getattr(contract, "symbol", None), component="ib.feed").info(
                    f"{len(new)} {size} bar(s) completed while the backfill ran; fetched up to "
                    f"{new[-1].time:%Y-%m-%d %H:%M %Z}")
                bars.extend(new)
                base = period_end(new[-1], size, sessions)
            checked = ended
        period_start, seed = await current_period(history, contract, size, now, sessions)
        later = await clock()
        if last_period_end(size, later, sessions) == last_period_end(size, now, sessions):
            return Startup(bars, now, period_start, seed)
        now = later
    return Startup(bars, now, period_start, seed)
