"""Rebalancing pressure of a fixed-mix fund: the drifted equity weight and the implied flow.

A fund that held ``target`` in equities and ``1 - target`` in bonds at the start
of a period holds ``w = t(1+Re) / (t(1+Re) + (1-t)(1+Rb))`` after it. Getting
back to target means selling ``AUM * (w - t)`` of equities (buying them when
negative), where AUM is the fund's value now.
"""
from __future__ import annotations

import pandas as pd

from strategies.rebalance import drifted_equity_weight
from strategies.signals.periods import Period, period_to_date

TRILLION = 1e12


def drift_points(target: float, equity_return: float, bond_return: float) -> float:
    """How far the equity weight drifted above the target, in percentage points."""
    return (drifted_equity_weight(target, equity_return, bond_return) - target) * 100.0


def implied_flow(target: float, equity_return: float, bond_return: float, aum: float = TRILLION) -> float:
    """Dollars of equities a fund of ``aum`` must sell (negative: buy) to get back to ``target``."""
    return aum * (drifted_equity_weight(target, equity_return, bond_return) - target)


def align_last_known(other: pd.DataFrame, index: pd.DatetimeIndex) -> pd.DataFrame:
    """``other`` on ``index``, each row the last bar of ``other`` at or before it (never a later one)."""
    return other.reindex(other.index.union(index)).ffill().reindex(index)


def drift_table(equity: pd.DataFrame, bonds: pd.DataFrame, period: Period, target: float = 0.6,
                aum: float = TRILLION) -> pd.DataFrame:
    """Per equity bar: both legs' period-to-date returns, the drifted weight, drift and implied flow.

    ``bonds`` is carried onto the equity bars by last known value; columns
    ``equity_return``, ``bond_return`` (fractions), ``weight``, ``drift_pts``, ``flow``.
    """
    equity_return = period_to_date(equity, period)
    bond_return = period_to_date(bonds, period)
    bond_return = bond_return.reindex(bond_return.index.union(equity.index)).ffill().reindex(equity.index)
    equities = target * (1.0 + equity_return)
    weight = equities / (equities + (1.0 - target) * (1.0 + bond_return))
    return pd.DataFrame({
        "equity_return": equity_return, "bond_return": bond_return, "weight": weight,
        "drift_pts": (weight - target) * 100.0, "flow": aum * (weight - target),
    }, index=equity.index)
