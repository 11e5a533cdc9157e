"""Exposure from remembered session spans equals the figure computed from scratch, on a hit and a miss."""
import numpy as np
import pandas as pd

from runner.report import metrics
from strategies import market_calendar


def reference(times: pd.DatetimeIndex, trades: pd.DataFrame) -> float:
    days = sorted(set(times.date))
    sessions = [d for d in days if market_calendar.is_session(d)]
    if not sessions:
        return 0.0
    opens = pd.DatetimeIndex([market_calendar.session_open(d) for d in sessions])
    closes = pd.DatetimeIndex([market_calendar.session_close(d) for d in sessions])
    total = float(np.asarray((closes - opens).total_seconds()).sum())
    held = 0.0
    if len(trades):
        ns = lambda t: pd.DatetimeIndex(t).tz_convert("UTC").as_unit("ns").asi8   # noqa: E731  one unit for all
        entries = ns(pd.to_datetime(trades["entry_time"], utc=True))
        exits = ns(pd.to_datetime(trades["exit_time"], utc=True))
        o, c = ns(opens), ns(closes)
        for entry, exit_ in zip(entries, exits):
            overlap = np.minimum(c, exit_) - np.maximum(o, entry)
            held += float(overlap[overlap > 0].sum()) / 1e9
    return round(held / total * 100.0, 4)


def test_remembered_spans_give_the_figure_from_scratch():
    rng = np.random.default_rng(21)
    metrics._spans.clear()
    for case in range(120):
        start = pd.Timestamp("2015-01-01") + pd.Timedelta(days=int(rng.integers(0, 1500)))
        days = pd.date_range(start, periods=int(rng.integers(1, 400)), freq="D")   # weekends and holidays too
        times = (days + pd.Timedelta(hours=16)).tz_localize("America/New_York")
        start = start.tz_localize("America/New_York")
        if rng.random() < 0.3:
            times = times[rng.random(len(times)) < 0.5]
        n = int(rng.integers(0, 8))
        entry = start + pd.to_timedelta(rng.integers(0, 400 * 24 * 60, n), unit="min")
        exit_ = entry + pd.to_timedelta(rng.integers(1, 10 * 24 * 60, n), unit="min")
        trades = pd.DataFrame({"entry_time": entry.astype(str), "exit_time": exit_.astype(str)})
        for _ in range(2):   # a miss, then a hit
            assert metrics.exposure_pct(times, trades) == reference(times, trades), f"case {case}"
    assert len(metrics._spans) > 0
