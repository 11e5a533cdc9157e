"""The embedded sample data, shipped inside the package (see README, "Sample data").

* ``sp500``, ``nasdaq``: real daily bars of the S&P 500 and the NASDAQ Composite,
  1999-01-04 to 2018-12-31, from the ``arch`` package (NCSA licence; originally
  Yahoo Finance). Index levels: they carry no dividends (``adj_close`` = close).
* ``aaa_bond_proxy``: a **proxy** of a bond total-return index, derived from
  Moody's monthly AAA corporate yields (same package): each month earns the
  previous month's yield and loses ``duration`` times the change in yield.
  A month's average yield is only known once the month is over, so a session
  sees the index through the previous month: no look-ahead.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

from runner.data.bars import NEW_YORK
from runner.data.files import read_csv_bars
from runner.errors import DataError

DAILY_SAMPLES = {"sp500": "sp500_daily.csv.gz", "nasdaq": "nasdaq_daily.csv.gz"}
BOND_PROXY = "aaa_bond_proxy"
BOND_PROXY_DURATION = 10.0


NOTES = {
    "sp500": "real daily S&P 500 index bars 1999-2018 (arch package, from Yahoo Finance; no dividends)",
    "nasdaq": "real daily NASDAQ Composite bars 1999-2018 (arch package, from Yahoo Finance; no dividends)",
    BOND_PROXY: f"PROXY bond total-return index derived from monthly Moody's AAA yields (duration {BOND_PROXY_DURATION:g})",
}


def sample_note(name: str) -> str:
    """What an embedded sample is, in one line (real, synthetic or proxy)."""
    from runner.data import sample_registry

    return NOTES.get(name) or sample_registry.NOTES.get(name, "embedded sample")


def sample_names() -> list[str]:
    return sorted([*DAILY_SAMPLES, BOND_PROXY, *_extra_samples()])


def _extra_samples() -> dict:
    # Other playbooks register generated samples here (e.g. synthetic minute bars).
    from runner.data import sample_registry

    return sample_registry.GENERATED


def _sample_path(filename: str):
    return resources.files("runner") / "sample_data" / filename


@lru_cache(maxsize=None)
def load_sample(name: str) -> pd.DataFrame:
    """Bars of one embedded sample by name; a copy-safe cached frame (do not mutate)."""
    if name in DAILY_SAMPLES:
        with resources.as_file(_sample_path(DAILY_SAMPLES[name])) as path:
            return read_csv_bars(path)
    if name == BOND_PROXY:
        sessions = load_sample("sp500").index
        return bond_total_return_proxy(_aaa_yields(), sessions)
    generated = _extra_samples()
    if name in generated:
        return generated[name]()
    raise DataError(f"unknown sample {name!r}; expected one of {', '.join(sample_names())}")


def _aaa_yields() -> pd.Series:
    with resources.as_file(_sample_path("aaa_yield_monthly.csv.gz")) as path:
        frame = pd.read_csv(path, parse_dates=["Date"], index_col="Date")
    return frame["AAA"]


def bond_total_return_proxy(yields_pct: pd.Series, sessions: pd.DatetimeIndex,
                            duration: float = BOND_PROXY_DURATION) -> pd.DataFrame:
    """A daily bond total-return level per session from monthly yields in percent.

    Month m returns ``y[m-1]/12 - duration * (y[m] - y[m-1])`` (yields as
    fractions); the level on a session includes only months that ended before it.
    """
    y = yields_pct.sort_index() / 100.0
    monthly_return = (y.shift(1) / 12.0 - duration * y.diff()).fillna(0.0)
    level = (1.0 + monthly_return).cumprod()
    # Month m's level becomes known on the first day of month m+1.
    known_from = level.index + pd.offsets.MonthBegin(1)
    known = pd.Series(level.to_numpy(), index=pd.DatetimeIndex(known_from).tz_localize(NEW_YORK))
    daily = known.reindex(known.index.union(sessions)).ffill().reindex(sessions)
    if daily.isna().any():
        raise DataError("aaa_bond_proxy: the yield series does not cover the requested sessions")
    return pd.DataFrame(
        {"open": daily, "high": daily, "low": daily, "close": daily, "volume": 0.0, "adj_close": daily},
        index=sessions,
    )
