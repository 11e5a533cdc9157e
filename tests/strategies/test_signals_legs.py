"""The signals over the legs the research names, by hand: drift over each period from two feeds, volume
spikes across SPY, QQQ and TLT at once, and rotation of IWM, RSP and QQQ against SPY; no look-ahead."""
import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from signal_bars import bars_from, flat, last_sessions, perturb_after
from strategies.signals.drift import drift_points, drift_table, implied_flow
from strategies.signals.filters import RotationFilter, VolumeSpikeFilter, describe, evaluate, values_on
from strategies.signals.periods import value_on

D = dt.date


# -- drift over the year, the quarter and the month ------------------------------

EQUITY = {D(2017, 12, 29): 90.0, D(2018, 3, 29): 100.0, D(2018, 4, 30): 104.0, D(2018, 5, 31): 110.0}
BONDS = {D(2017, 12, 29): 50.0, D(2018, 3, 29): 50.0, D(2018, 4, 30): 51.0, D(2018, 5, 31): 51.51}


@pytest.mark.parametrize("period, equity_return, bond_return", [
    ("year", 110 / 90 - 1, 51.51 / 50 - 1),      # base: the 2017 year-end closes
    ("quarter", 0.10, 0.0302),                   # base: Mar 29 (the last close of Q1)
    ("month", 110 / 104 - 1, 0.01),              # base: Apr 30
])
def test_drift_and_flow_over_each_period_by_hand(period, equity_return, bond_return):
    table = drift_table(bars_from(EQUITY), bars_from(BONDS), period, target=0.6, aum=1e12)
    may = table.loc[pd.Timestamp("2018-05-31", tz="America/New_York")]
    assert may.equity_return == pytest.approx(equity_return) and may.bond_return == pytest.approx(bond_return)
    weight = 0.6 * (1 + equity_return) / (0.6 * (1 + equity_return) + 0.4 * (1 + bond_return))
    assert may.weight == pytest.approx(weight)
    assert may.drift_pts == pytest.approx((weight - 0.6) * 100) == pytest.approx(
        drift_points(0.6, equity_return, bond_return))
    assert may.flow == pytest.approx(1e12 * (weight - 0.6)) == pytest.approx(
        implied_flow(0.6, equity_return, bond_return))


def test_quarter_drift_by_hand_in_numbers():
    table = drift_table(bars_from(EQUITY), bars_from(BONDS), "quarter", target=0.6)
    # equities +10%, bonds +3.02% since Mar 29: w = 0.66 / (0.66 + 0.41208) = 0.615626...
    assert value_on(table["drift_pts"], D(2018, 5, 31)) == pytest.approx((0.66 / 1.07208 - 0.6) * 100)
    assert value_on(table["flow"], D(2018, 5, 31)) == pytest.approx(15.626e9, rel=1e-4)   # sell per $1T


# -- volume spikes across several instruments -------------------------------------

def three_instruments():
    """Month-end volumes Jan-Jun 2018 of 2..12 (median 7) for each; on the July month end SPY trades
    21 (3.0x), QQQ 10 (1.43x), TLT 7 (1.0x)."""
    ends = last_sessions(2018, range(1, 8))
    days = flat(D(2018, 1, 2), D(2018, 7, 31))
    legs = {}
    for name, july in (("SPY", 21e6), ("QQQ", 10e6), ("TLT", 7e6)):
        volumes = {ends[m]: v * 1e6 for m, v in zip(range(1, 7), (2, 4, 6, 8, 10, 12))}
        volumes[ends[7]] = july
        legs[name] = bars_from(days, volumes)
    return legs, ends[7]


def test_month_end_volume_of_spy_qqq_and_tlt_at_once_by_hand():
    legs, july_end = three_instruments()
    spec = VolumeSpikeFilter(signal="volume_spike", instruments=["SPY", "QQQ", "TLT"], lookback=6, min_ratio=1.3)
    values = values_on(spec, [legs[name] for name in spec.legs("SPY")], july_end)
    assert values == pytest.approx([3.0, 10 / 7, 1.0])
    assert not evaluate(spec, values)                                   # all must spike: TLT does not
    assert evaluate(spec.model_copy(update={"require": "any"}), values)
    assert describe(spec, spec.legs("SPY"), values) == \
        "volume_spike month SPY 3.00x, QQQ 1.43x, TLT 1.00x (>= 1.3x (all)) fail"
    # the session before the month end is compared with the second-to-last sessions: 1e6 each
    assert values_on(spec, [legs[n] for n in spec.legs("SPY")], D(2018, 7, 30)) == pytest.approx([1.0] * 3)


# -- rotation / breadth pairs -------------------------------------------------------

def pairs():
    """Five sessions to Jun 29 2018: SPY +1%, IWM +2%, RSP flat, QQQ +3%."""
    days = [D(2018, 6, 22), D(2018, 6, 25), D(2018, 6, 26), D(2018, 6, 27), D(2018, 6, 28), D(2018, 6, 29)]

    def leg(total):
        return bars_from({d: 100.0 * (1 + total * i / 5) for i, d in enumerate(days)})

    return {"SPY": leg(0.01), "IWM": leg(0.02), "RSP": leg(0.0), "QQQ": leg(0.03)}


@pytest.mark.parametrize("long, expected, verdict", [
    ("IWM", (1.02 / 1.01 - 1) * 100, "pass"),    # small caps lead large caps: +0.99%
    ("RSP", (1.00 / 1.01 - 1) * 100, "fail"),    # equal weight trails cap weight: -0.99%
    ("QQQ", (1.03 / 1.01 - 1) * 100, "pass"),    # NDX outruns SPX: +1.98%, flows concentrate in tech
])
def test_rotation_against_spy_by_hand(long, expected, verdict):
    legs = pairs()
    spec = RotationFilter(signal="rotation", long=long, short="SPY", sessions=5, min_pct=0.5)
    (value,) = values_on(spec, [legs[long], legs["SPY"]], D(2018, 6, 29))
    assert value == pytest.approx(expected)
    assert describe(spec, [long, "SPY"], [value]) == f"rotation {long}/SPY 5s {expected:+.2f}% (>= 0.5) {verdict}"
    assert math.isnan(values_on(spec, [legs[long], legs["SPY"]], D(2018, 6, 28))[0])   # 4 sessions: warm-up


# -- no look-ahead over several legs ------------------------------------------------

def random_legs(names, seed: int = 7) -> dict[str, pd.DataFrame]:
    days = list(flat(D(2017, 10, 2), D(2018, 7, 31)))
    rng = np.random.default_rng(seed)
    legs = {}
    for name in names:
        closes = 100 * np.cumprod(1 + rng.normal(0, 0.01, len(days)))
        legs[name] = bars_from(dict(zip(days, closes)), dict(zip(days, rng.uniform(1e6, 3e6, len(days)))))
    return legs


@pytest.mark.parametrize("spec", [
    VolumeSpikeFilter(signal="volume_spike", instruments=["SPY", "QQQ", "TLT"], lookback=3, min_samples=1,
                      min_ratio=1.3),
    RotationFilter(signal="rotation", long="IWM", short="SPY", sessions=3, min_pct=0.0),
], ids=["volume-three-legs", "rotation"])
def test_later_bars_of_any_leg_do_not_change_the_value(spec):
    names = spec.legs("SPY")
    legs = random_legs(names)
    cut = D(2018, 5, 15)
    changed = {n: perturb_after(legs[n], cut, factor=0.5 + i) for i, n in enumerate(names)}
    dates = [d.date() for d in legs[names[0]].index]

    def values(bars, days):
        return np.array([values_on(spec, [bars[n] for n in names], d) for d in days])

    upto = [d for d in dates if d <= cut][-60:]
    assert np.array_equal(values(legs, upto), values(changed, upto), equal_nan=True)
    assert np.isfinite(values(legs, upto)).any()
    later = [d for d in dates if d > cut]
    assert not np.array_equal(values(legs, later), values(changed, later), equal_nan=True)
