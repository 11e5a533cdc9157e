"""SYNTHETIC 1-minute bars, generated on the fly (deterministic, seeded): ``sample:spy_1min_synthetic``.

No package ships real US equity minute bars, so the intraday playbook's
sample is made up. What is real: the NYSE sessions of 2018 from the XNYS
calendar (holidays, the 2018-12-05 closure, the 13:00 early closes of Jul 3,
Nov 23 and Dec 24) and the date-versioned MOC cutoffs the playbook applies to
them (15:45, and 12:45 on early closes, in 2010-2019). What is
made: the prices (a random walk around 275 with SPY-like daily and intraday
volatility, more volatile at the open and the close), a U-shaped volume
profile, and "close-imbalance" pushes on some eligible days (and a few other
days): from 15:00 to 15:28 the price is driven 0.4–0.9% away from where it was,
the last half hour's volume swells, and part of the push reverts into the
close. Nothing here says anything about real markets; it exists so that
``flowbot backtest`` shows the playbook act, offline.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from runner.data.bars import validate_bars
from strategies import market_calendar as cal

SAMPLE_NAME = "spy_1min_synthetic"
SEED = 20180102
NOTE = ("SYNTHETIC 1-minute bars, 2018 (generated, seeded; real NYSE sessions and early closes, made-up prices and "
        "volumes with close-imbalance pushes on some eligible days): shows the VWAP fade act, proves nothing")


def synthetic_minute_bars(start: dt.date, end: dt.date, seed: int = SEED, push_share_eligible: float = 0.6,
                          push_share_other: float = 0.05, eligible=None, price: float = 275.0) -> pd.DataFrame:
    """Regular-hours 1-minute bars for every NYSE session from ``start`` to ``end`` (bar schema, stamped at start).

    ``eligible(day) -> bool`` picks the days that get a close-imbalance push with
    probability ``push_share_eligible`` (other days: ``push_share_other``).
    """
    rng = np.random.default_rng(seed)
    sessions = cal.sessions_between(start, end)
    lengths = np.array([_minutes(d) for d in sessions])
    n = int(lengths.sum())
    day_of_bar = np.repeat(np.arange(len(sessions)), lengths)
    first = np.r_[0, np.cumsum(lengths)[:-1]]
    t = np.arange(n) - first[day_of_bar]                 # minute of the session
    to_close = lengths[day_of_bar] - t                   # minutes left, 1 for the last bar

    # Volatility and volume both U-shaped over the session.
    shape = 1.0 + 1.8 * np.exp(-t / 25.0) + 1.2 * np.exp(-(to_close - 1) / 20.0)
    minute_vol = 0.00045 * shape * np.repeat(rng.lognormal(0.0, 0.25, len(sessions)), lengths)
    returns = rng.standard_normal(n) * minute_vol
    gaps = rng.standard_normal(len(sessions)) * 0.004
    returns[first] += gaps
    volume = 60_000.0 * shape ** 1.6 * rng.lognormal(0.0, 0.35, n)

    # Close-imbalance pushes: a drift from an hour before the close to 15 minutes before it, a partial
    # reversal after, and a swell of volume in the last half hour.
    eligible = eligible or (lambda day: False)
    chance = np.array([push_share_eligible if eligible(d) else push_share_other for d in sessions])
    pushed = rng.random(len(sessions)) < chance
    size = rng.uniform(0.004, 0.009, len(sessions)) * rng.choice([-1.0, 1.0], len(sessions))
    give_back = rng.uniform(0.2, 0.8, len(sessions))
    push_on = pushed[day_of_bar]
    up = push_on & (to_close <= 60) & (to_close > 32)
    back = push_on & (to_close <= 32)
    returns[up] += (size / 28.0)[day_of_bar][up]
    returns[back] -= (size * give_back / 32.0)[day_of_bar][back]
    volume[push_on & (to_close <= 30)] *= 1.8

    close = price * np.exp(np.cumsum(returns))
    open_ = np.r_[price, close[:-1]]
    open_[first] = close[first] / np.exp(returns[first] - gaps) if len(first) else open_[first]
    wiggle = np.abs(rng.standard_normal((2, n))) * minute_vol * 0.6
    high = np.maximum(open_, close) * (1.0 + wiggle[0])
    low = np.minimum(open_, close) * (1.0 - wiggle[1])
    index = _stamps(sessions, lengths)
    bars = pd.DataFrame({
        "open": np.round(open_, 2), "high": np.round(high, 2), "low": np.round(low, 2),
        "close": np.round(close, 2), "volume": np.round(volume / 100.0) * 100.0,
    }, index=index)
    bars["high"] = bars[["open", "high", "close"]].max(axis=1)
    bars["low"] = bars[["open", "low", "close"]].min(axis=1)
    return bars


def _minutes(day: dt.date) -> int:
    close = cal.session_close(day)
    return (close.hour * 60 + close.minute) - (9 * 60 + 30)


def _stamps(sessions: list[dt.date], lengths: np.ndarray) -> pd.DatetimeIndex:
    opens = pd.DatetimeIndex([pd.Timestamp(dt.datetime.combine(d, dt.time(9, 30))) for d in sessions]).as_unit("ns")
    base = np.repeat(opens.asi8, lengths)
    minute = np.arange(int(lengths.sum())) - np.repeat(np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    index = pd.DatetimeIndex(base + minute * 60_000_000_000, dtype="datetime64[ns]").tz_localize(cal.NEW_YORK)
    index.name = "time"
    return index


def spy_1min_synthetic() -> pd.DataFrame:
    """The embedded intraday sample: 2018 (the daily samples end then), default eligible days pushed more often."""
    from strategies.vwap_close_fade import VwapCloseFadeParams, eligible_reasons

    params = VwapCloseFadeParams()
    bars = synthetic_minute_bars(dt.date(2018, 1, 1), dt.date(2018, 12, 31),
                                 eligible=lambda day: bool(eligible_reasons(day, params)))
    return validate_bars(bars, f"sample:{SAMPLE_NAME}")

