"""When a live feed's real-time bars count as stalled (pure: no I/O, no clock of its own).

IB's real-time bar subscription can die silently, or the market data farm drop, with the socket up
and no error code (issue 10). A feed is stalled when its symbol's stream has sent no 5-second bar
for a bounded time of market hours, measured on the gateway's clock (its reqCurrentTime answers,
which the simulator's fast replay moves on too), never on the local one:

- an intraday feed of N-minute bars: no 5-second bar for ``INTRADAY_BARS`` of its bars (3 x N
  minutes) inside one session, counted from the later of the last bar's end and the session's open
  (nights and weekends never count). Three bars: one missed bar can be a quiet market or a slow
  gateway; a third in a row is not, and the strategy has then missed two decisions;
- a daily feed (its bar is complete only at the close, and an illiquid stream, like the simulator
  replaying daily data, may be quiet for hours inside a session): once ``CLOSE_MARGIN`` past a
  session's close, no 5-second bar in that session's last ``DAILY_QUIET`` (a live stream sends its
  last bar at 15:59:55).

``heard`` is the end of the last 5-second bar streamed for the symbol, or when watching (re)began
(start, connectivity back), whichever is later: the silence never counts time the bot did not watch.
"""
from __future__ import annotations

import datetime as dt

from runner.ib.bars import BarSize
from runner.ib.sessions import Sessions

INTRADAY_BARS = 3
DAILY_QUIET = dt.timedelta(minutes=30)
CLOSE_MARGIN = dt.timedelta(minutes=5)


def silence_limit(size: BarSize) -> dt.timedelta:
    """How long an intraday feed may go without a 5-second bar inside a session (daily: see module doc)."""
    return dt.timedelta(minutes=INTRADAY_BARS * size.minutes) if not size.daily else DAILY_QUIET


def stalled_for(size: BarSize, sessions: Sessions, now: dt.datetime, heard: dt.datetime) -> dt.timedelta | None:
    """How long the stream has been silent (``now - heard``) when that means stalled, else None."""
    if heard >= now:
        return None
    if size.daily:
        close = sessions.previous_close(now - CLOSE_MARGIN)
        if close is None or heard >= close - DAILY_QUIET:
            return None
        return now - heard
    session = sessions.session_of(now)
    if session is None:
        return None
    silent = now - max(heard, sessions.open_of(session))
    return now - heard if silent >= silence_limit(size) else None


def said(silence: dt.timedelta) -> str:
    """A silence for the log: minutes, or hours and minutes."""
    minutes = silence.total_seconds() / 60
    if minutes < 120:
        return f"{minutes:,.1f} min"
    return f"{int(minutes // 60)} h {int(minutes % 60)} min"
