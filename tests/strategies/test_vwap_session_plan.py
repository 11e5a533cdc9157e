"""session_plan's trigger window ends where market_calendar.moc_cutoff says, on every session and venue."""
from __future__ import annotations

import datetime as dt

import backtrader as bt
import pandas as pd
import pytest

from strategies import market_calendar as cal
from strategies.vwap_close_fade import VwapCloseFadeParams, session_plan


@pytest.mark.parametrize("venue", ["NYSE", "NASDAQ"])
def test_last_trigger_is_two_minutes_before_the_cutoff(venue):
    p = VwapCloseFadeParams(venue=venue)
    days = [d.date() for d in pd.bdate_range("1999-01-01", "2026-11-30") if cal.is_session(d.date())]
    early = 0
    for day in days:
        cutoff = cal.moc_cutoff(day, venue)
        plan = session_plan(day, p)
        expected = dt.datetime.combine(day, dt.time(cutoff.hour, cutoff.minute)) - dt.timedelta(minutes=2)
        assert plan.last_trigger == pytest.approx(bt.date2num(expected), abs=1e-9), day
        early += plan.length < 390
    assert early > 0   # early closes are among them
