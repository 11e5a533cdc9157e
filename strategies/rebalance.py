"""Rebalancing pressure: how far a fixed-mix portfolio has drifted from its target."""
from __future__ import annotations


def drifted_equity_weight(target: float, equity_return: float, bond_return: float) -> float:
    """Equity weight after a period, for a ``target`` equity / (1 - target) bond mix.

    ``w = t(1+Re) / (t(1+Re) + (1-t)(1+Rb))``; returns as fractions (0.15 = 15%).
    """
    equities = target * (1.0 + equity_return)
    bonds = (1.0 - target) * (1.0 + bond_return)
    return equities / (equities + bonds)
