"""Aggregation of 5-second bars (stamped at their start) into strategy bars."""
import datetime as dt

import pytest

from runner.ib.bars import Bar, BarAggregator, BarSize
from runner.ib.sessions import NEW_YORK


def ny(y, m, d, hh=0, mm=0, ss=0):
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=NEW_YORK)


def five_second_bars(first: dt.datetime, last: dt.datetime, price=100.0):
    """Consecutive 5-second bars from ``first`` to ``last`` inclusive, rising by 0.01."""
    out, t, p = [], first, price
    while t <= last:
        out.append((t, p, p + 0.05, p - 0.05, p + 0.01, 10.0))
        t += dt.timedelta(seconds=5)
        p += 0.01
    return out


def feed(agg, bars):
    done = []
    for b in bars:
        done += agg.add(*b)
    return done


def test_one_minute_bar_completes_with_its_last_five_second_slot():
    agg = BarAggregator(BarSize(1))
    bars = five_second_bars(ny(2024, 3, 4, 9, 30), ny(2024, 3, 4, 9, 30, 55))
    done = feed(agg, bars[:-1])
    assert done == []
    done = agg.add(*bars[-1])
    assert done == [Bar(ny(2024, 3, 4, 9, 30), bars[0][1], max(b[2] for b in bars), min(b[3] for b in bars),
                        bars[-1][4], 120.0)]


def test_sparse_bars_complete_when_a_later_period_starts():
    agg = BarAggregator(BarSize(1))
    assert agg.add(ny(2024, 3, 4, 9, 30, 10), 1, 2, 0.5, 1.5, 5) == []
    done = agg.add(ny(2024, 3, 4, 9, 32, 0), 2, 2, 2, 2, 1)
    assert done == [Bar(ny(2024, 3, 4, 9, 30), 1, 2, 0.5, 1.5, 5)]


def test_repeated_and_out_of_order_bars_are_dropped():
    agg = BarAggregator(BarSize(1))
    bars = five_second_bars(ny(2024, 3, 4, 9, 30), ny(2024, 3, 4, 9, 31, 55))
    done = feed(agg, bars[:15] + bars[5:10] + bars[15:] + bars)
    assert [b.time for b in done] == [ny(2024, 3, 4, 9, 30), ny(2024, 3, 4, 9, 31)]
    assert done[0].volume == 120.0


def test_after_drops_overlap_with_backfill():
    agg = BarAggregator(BarSize(1), after=ny(2024, 3, 4, 9, 31))
    done = feed(agg, five_second_bars(ny(2024, 3, 4, 9, 30), ny(2024, 3, 4, 9, 31, 55)))
    assert [b.time for b in done] == [ny(2024, 3, 4, 9, 31)]


def test_daily_bar_completes_at_the_close_and_is_stamped_at_the_session_date():
    agg = BarAggregator(BarSize())
    assert agg.add(ny(2024, 3, 4, 9, 30), 10, 11, 9, 10.5, 100) == []
    assert agg.add(ny(2024, 3, 4, 12, 0), 10.5, 12, 10, 11, 100) == []
    done = agg.add(ny(2024, 3, 4, 15, 59, 55), 11, 11, 8, 9, 100)
    assert done == [Bar(ny(2024, 3, 4), 10, 12, 8, 9, 300)]


def test_early_close_ends_the_daily_bar_at_13():
    agg = BarAggregator(BarSize())
    agg.add(ny(2018, 12, 24, 9, 30), 10, 11, 9, 10.5, 100)
    done = agg.add(ny(2018, 12, 24, 12, 59, 55), 10, 10, 10, 10, 1)
    assert [b.time for b in done] == [ny(2018, 12, 24)]


def test_clock_completes_a_bar_whose_last_slot_never_came():
    agg = BarAggregator(BarSize())
    agg.add(ny(2024, 3, 4, 9, 30), 10, 11, 9, 10.5, 100)
    assert agg.advance_to(ny(2024, 3, 4, 15, 59, 59)) == []
    assert agg.pending_end() == ny(2024, 3, 4, 16)
    assert [b.time for b in agg.advance_to(ny(2024, 3, 4, 16, 0, 1))] == [ny(2024, 3, 4)]
    assert agg.advance_to(ny(2024, 3, 4, 17)) == []


def test_outside_regular_hours_is_ignored():
    agg = BarAggregator(BarSize(1))
    assert agg.add(ny(2024, 3, 4, 9, 29, 55), 1, 1, 1, 1, 1) == []
    assert agg.add(ny(2024, 3, 2, 11, 0), 1, 1, 1, 1, 1) == []  # Saturday
    assert agg.pending_end() is None


def test_five_minute_bars_align_to_the_open_and_stop_at_an_early_close():
    agg = BarAggregator(BarSize(5))
    done = feed(agg, five_second_bars(ny(2018, 12, 24, 12, 50), ny(2018, 12, 24, 12, 59, 55)))
    assert [b.time for b in done] == [ny(2018, 12, 24, 12, 50), ny(2018, 12, 24, 12, 55)]


def test_dst_switch_day_keeps_wall_clock_periods():
    agg = BarAggregator(BarSize(1))
    done = feed(agg, five_second_bars(ny(2024, 3, 11, 9, 30), ny(2024, 3, 11, 9, 30, 55)))
    assert [b.time for b in done] == [ny(2024, 3, 11, 9, 30)]


@pytest.mark.parametrize("text,minutes", [("1d", 0), ("daily", 0), ("1min", 1), ("5 mins", 5), ("1m", 1)])
def test_bar_size_parse(text, minutes):
    assert BarSize.parse(text).minutes == minutes


def test_bar_size_parse_rejects_garbage():
    with pytest.raises(ValueError):
        BarSize.parse("1 fortnight")
