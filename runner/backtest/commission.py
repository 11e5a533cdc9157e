"""IB-style per-share commission with a minimum and a cap, for backtrader's broker."""
from __future__ import annotations

import backtrader as bt


class PerShareCommission(bt.CommInfoBase):
    """``max(minimum, |size| * per_share)``, capped at ``maximum_pct`` percent of the trade value."""

    params = (
        ("per_share", 0.005),
        ("minimum", 1.0),
        ("maximum_pct", 1.0),
        ("stocklike", True),
        ("commtype", bt.CommInfoBase.COMM_FIXED),
    )

    def _getcommission(self, size, price, pseudoexec):
        shares = abs(size)
        if shares == 0:
            return 0.0
        fee = max(self.p.minimum, shares * self.p.per_share)
        return min(fee, self.p.maximum_pct / 100.0 * shares * abs(price)) if self.p.maximum_pct else fee
