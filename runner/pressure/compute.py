"""What the pressure monitor shows for one date: returns, drift, flow, the drift's history, the calendar.

Everything is computed from bars up to the date (the history too): the page
shows what a trader could have known at that close.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from runner.data.sample import sample_note
from runner.errors import DataError
from runner.pressure.calendar_table import calendar_facts
from runner.pressure.pressure_config import PressureConfig
from strategies import market_calendar as cal
from strategies.signals.drift import drift_table
from strategies.signals.filters import describe, evaluate, threshold_text, values_on
from strategies.signals.periods import PERIODS, period_to_date, value_on



def _dates(bars: pd.DataFrame) -> list[dt.date]:
    return [ts.date() for ts in bars.index]


def resolve_date(bars: pd.DataFrame, day: dt.date | None, name: str) -> tuple[dt.date, str | None]:
    """The bar the report is for: ``day`` or the last bar before it (with a note), default the last bar."""
    dates = _dates(bars)
    if day is None:
        if dates[-1] > dt.date.today():
            raise DataError(f"{name}: a bar is dated {dates[-1]}, after today; bars are history (a two-digit year "
                            f"read in the wrong century? name the format in data.date_format)")
        return dates[-1], None
    if day < dates[0]:
        raise DataError(f"{name}: the data starts {dates[0]}; --date {day} is before it")
    if day > dates[-1] and cal.sessions_between(dates[-1] + dt.timedelta(days=1), day):
        raise DataError(f"{name}: the data ends {dates[-1]}; --date {day} is after it (sessions are missing: "
                        f"fetch or add them, or give an earlier date)")
    on = max(d for d in dates if d <= day)
    first = dt.date.fromisoformat(cal.CALENDAR_START)
    if on < first or on > dt.date.today():
        raise DataError(f"{name}: --date {day}: the NYSE calendar the report counts sessions with covers {first} to "
                        f"today; give a date in it")
    return on, None if on == day else f"{day} has no bar ({'not a session' if not cal.is_session(day) else 'gap'}); " \
                                      f"showing {on}, the last bar before it"


def _num(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def leg_returns(bars: pd.DataFrame, day: dt.date) -> dict[str, float | None]:
    return {period: _num(value_on(period_to_date(bars, period), day)) for period in PERIODS}


def mix_rows(cfg: PressureConfig, equity: pd.DataFrame, bonds: pd.DataFrame, day: dt.date) -> list[dict]:
    rows = []
    for target in cfg.mixes:
        for period in PERIODS:
            table = drift_table(equity, bonds, period, target, cfg.aum)
            rows.append({"mix": f"{target:.0%}/{1 - target:.0%}", "target": target, "period": period,
                         "weight": _num(value_on(table["weight"], day)),
                         "drift_pts": _num(value_on(table["drift_pts"], day)),
                         "flow": _num(value_on(table["flow"], day))})
    return rows


def drift_history(cfg: PressureConfig, equity: pd.DataFrame, bonds: pd.DataFrame, day: dt.date) -> dict:
    """Today's year-to-date drift of the first mix against its own past (data up to ``day`` only)."""
    target = cfg.mixes[0]
    series = drift_table(equity, bonds, "year", target, cfg.aum)["drift_pts"]
    series = series[series.index.tz_localize(None) <= pd.Timestamp(day)].dropna()
    today = value_on(series, day)
    if not np.isfinite(today) or len(series) < 2:
        return {"target": target, "today": None}
    same_date = {}
    for year in sorted({ts.year for ts in series.index}):
        if year == day.year:
            continue
        try:
            then = day.replace(year=year)
        except ValueError:                      # Feb 29
            then = day.replace(year=year, day=28)
        year_part = series[series.index.year == year]
        if len(year_part) and year_part.index[0].date() <= then:
            same_date[year] = round(value_on(year_part, then), 4)
    higher = [y for y, v in same_date.items() if v > today]
    values = series.to_numpy()
    return {
        "target": target, "today": round(float(today), 4),
        "percentile_all_sessions": round(float((values < today).mean() * 100.0), 1),
        "sessions": int(len(values)), "first": str(series.index[0].date()),
        "same_date": same_date,
        "percentile_same_date": round(float(np.mean([v < today for v in same_date.values()]) * 100.0), 1)
        if same_date else None,
        "years_higher": higher,
    }


def drift_paths(cfg: PressureConfig, equity: pd.DataFrame, bonds: pd.DataFrame, day: dt.date) -> dict[int, list]:
    """Year -> the year-to-date drift by session of the year (for the chart), up to ``day``."""
    series = drift_table(equity, bonds, "year", cfg.mixes[0], cfg.aum)["drift_pts"]
    series = series[series.index.tz_localize(None) <= pd.Timestamp(day)]
    return {int(year): [_num(v) for v in part.to_numpy()] for year, part in series.groupby(series.index.year)}


def signal_rows(cfg: PressureConfig, bars: dict[str, pd.DataFrame], day: dt.date) -> list[dict]:
    rows = []
    for spec in cfg.signals:
        legs = spec.legs(cfg.equity)
        values = values_on(spec, [bars[name] for name in legs], day)
        rows.append({"signal": spec.signal, "legs": legs, "values": [_num(v) for v in values],
                     "threshold": threshold_text(spec), "passes": evaluate(spec, values),
                     "text": describe(spec, legs, values)})
    return rows


def instrument_labels(cfg: PressureConfig) -> dict[str, str]:
    """Name -> where its bars come from, with the sample's own label (real, PROXY, SYNTHETIC)."""
    out = {}
    for name, source in cfg.instruments.items():
        text = source.describe()
        out[name] = f"{text} — {sample_note(source.sample)}" if source.sample else text
    return out


def compute_pressure(cfg: PressureConfig, bars: dict[str, pd.DataFrame], day: dt.date | None) -> dict:
    """The whole report for ``day`` (default: the equity leg's last bar), JSON-ready."""
    equity = bars[cfg.equity]
    on, note = resolve_date(equity, day, cfg.equity)
    report = {"date": str(on), "requested": None if day is None else str(day), "note": note,
              "equity": cfg.equity, "bonds": cfg.bonds, "labels": instrument_labels(cfg),
              "close": float(equity["close"].iloc[_dates(equity).index(on)]),
              "returns": {cfg.equity: leg_returns(equity, on)}, "aum": cfg.aum}
    if cfg.bonds:
        bonds = bars[cfg.bonds]
        report["returns"][cfg.bonds] = leg_returns(bonds, on)
        report["mixes"] = mix_rows(cfg, equity, bonds, on)
        report["history"] = drift_history(cfg, equity, bonds, on)
    report["calendar"] = calendar_facts(on, cfg.equity)
    report["signals"] = signal_rows(cfg, bars, on)
    return report
