"""When a feed's real-time bars count as stalled (runner/ib/feed_stall.py): pure rules on given times."""
import datetime as dt

from runner.ib.bars import BarSize
from runner.ib.feed_stall import silence_limit, stalled_for
from runner.ib.sessions import NEW_YORK, Sessions

S = Sessions()
MIN1, MIN5, DAILY = BarSize.parse("1min"), BarSize.parse("5min"), BarSize.parse("1d")


def ny(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


def test_an_intraday_feed_is_stalled_after_three_of_its_bars_without_a_five_second_bar():
    assert silence_limit(MIN1) == dt.timedelta(minutes=3) and silence_limit(MIN5) == dt.timedelta(minutes=15)
    heard = ny("2024-03-05 10:00:00")
    assert stalled_for(MIN1, S, ny("2024-03-05 10:02:59"), heard) is None
    assert stalled_for(MIN1, S, ny("2024-03-05 10:03:00"), heard) == dt.timedelta(minutes=3)
    assert stalled_for(MIN5, S, ny("2024-03-05 10:14:00"), heard) is None
    assert stalled_for(MIN5, S, ny("2024-03-05 10:15:00"), heard) is not None


def test_nights_weekends_and_the_time_before_the_open_never_count():
    friday = ny("2024-03-08 15:59:00")
    assert stalled_for(MIN1, S, ny("2024-03-08 20:00"), friday) is None, "after the close"
    assert stalled_for(MIN1, S, ny("2024-03-11 09:32"), friday) is None, "Monday, 2 min into the session"
    assert stalled_for(MIN1, S, ny("2024-03-11 09:33"), friday) is not None


def test_a_daily_feed_is_stalled_once_a_session_closed_without_a_bar_in_its_last_half_hour():
    quiet_day = ny("2024-03-05 13:50")   # the simulator's daily replay is quiet for hours inside a session
    assert stalled_for(DAILY, S, ny("2024-03-05 15:59"), quiet_day) is None, "not before the close"
    last_piece = ny("2024-03-05 16:00")
    assert stalled_for(DAILY, S, ny("2024-03-06 09:31"), last_piece) is None, "the session ended streaming"
    assert stalled_for(DAILY, S, ny("2024-03-05 16:04"), quiet_day) is None, "the close's margin"
    assert stalled_for(DAILY, S, ny("2024-03-05 16:05"), ny("2024-03-05 15:29")) is not None
    assert stalled_for(DAILY, S, ny("2024-03-06 09:31"), ny("2024-03-04 16:00")) is not None, "a whole session"


def test_the_count_starts_when_watching_began():
    assert stalled_for(MIN1, S, ny("2024-03-05 10:03"), ny("2024-03-05 10:03")) is None
    assert stalled_for(DAILY, S, ny("2024-03-06 09:31"), ny("2024-03-05 16:30")) is None
