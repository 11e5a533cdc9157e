"""The paper account behind the simulated gateway: cash, positions, executions, P&L.

Contract (IB conventions, so the bot sees what a real gateway reports):

* A fill of signed quantity ``q`` at price ``p`` with commission ``c`` moves cash
  by ``-(q*p + c)``.
* A position's average cost includes the commissions of the fills that opened
  it: ``avg = sum(q*p + c) / position`` (so a short's average cost is the price
  less its commission per share).
* A fill that reduces a position realizes ``-q_closed * (p - avg)`` less its
  share of the commission; a fill that only opens realizes nothing (the
  commission report then carries the unset double, like IB).
* Commission per execution: ``per_share * shares``, with the order's minimum
  applied over the whole order (the first executions pay up to the minimum).
* Market value uses the last traded price the replay has reached.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Position:
    quantity: float = 0.0
    avg_cost: float = 0.0
    realized_pnl: float = 0.0


@dataclass(frozen=True)
class Execution:
    exec_id: str
    perm_id: int
    order_id: int
    client_id: int
    symbol: str
    side: str            # BOT or SLD
    shares: float
    price: float
    time: float          # sim epoch seconds
    cum_qty: float
    avg_price: float
    order_ref: str
    commission: float
    realized_pnl: float | None
    account: str


@dataclass
class CommissionSchedule:
    per_share: float = 0.005
    minimum: float = 1.0

    def for_execution(self, shares: float, order_paid_so_far: float, order_filled_after: float) -> float:
        """Commission of one execution so that the order's total is max(per_share*qty, minimum)."""
        total_after = max(self.per_share * order_filled_after, self.minimum)
        return round(max(total_after - order_paid_so_far, 0.0), 6)


@dataclass
class Account:
    account_id: str
    cash: float
    positions: dict[str, Position] = field(default_factory=dict)
    executions: list[Execution] = field(default_factory=list)
    realized_pnl: float = 0.0
    commissions: float = 0.0
    starting_cash: float = 0.0

    def __post_init__(self):
        self.starting_cash = self.starting_cash or self.cash

    def apply_fill(self, symbol: str, signed_qty: float, price: float, commission: float) -> float | None:
        """Book one execution; return its realized P&L (None if it only opened)."""
        self.cash -= signed_qty * price + commission
        self.commissions += commission
        pos = self.positions.setdefault(symbol, Position())
        held = pos.quantity
        closing = 0.0
        if held and (held > 0) != (signed_qty > 0):
            closing = -held if abs(signed_qty) > abs(held) else signed_qty
        opening = signed_qty - closing
        realized = None
        if closing:
            share = commission * abs(closing) / abs(signed_qty)
            realized = -closing * (price - pos.avg_cost) - share
            self.realized_pnl += realized
            pos.realized_pnl += realized
            pos.quantity = held + closing
            if pos.quantity == 0:
                pos.avg_cost = 0.0
        if opening:
            share = commission * abs(opening) / abs(signed_qty)
            basis = pos.quantity * pos.avg_cost + opening * price + share
            pos.quantity += opening
            pos.avg_cost = basis / pos.quantity
        return realized

    def market_value(self, prices: dict[str, float]) -> float:
        return sum(p.quantity * prices.get(s, p.avg_cost) for s, p in self.positions.items())

    def summary(self, prices: dict[str, float]) -> dict[str, float]:
        """The account values a gateway reports (USD), keyed by IB's tag names."""
        market = self.market_value(prices)
        gross = sum(abs(p.quantity * prices.get(s, p.avg_cost)) for s, p in self.positions.items())
        unrealized = sum(p.quantity * (prices.get(s, p.avg_cost) - p.avg_cost)
                         for s, p in self.positions.items())
        net_liq = self.cash + market
        init_margin = 0.5 * gross          # Reg T, for a readable AvailableFunds
        maint_margin = 0.25 * gross
        return {
            "NetLiquidation": net_liq,
            "TotalCashValue": self.cash,
            "CashBalance": self.cash,
            "SettledCash": self.cash,
            "AccruedCash": 0.0,
            "GrossPositionValue": gross,
            "StockMarketValue": market,
            "EquityWithLoanValue": net_liq,
            "InitMarginReq": init_margin,
            "MaintMarginReq": maint_margin,
            "AvailableFunds": net_liq - init_margin,
            "ExcessLiquidity": net_liq - maint_margin,
            "BuyingPower": 2 * (net_liq - init_margin),
            "UnrealizedPnL": unrealized,
            "RealizedPnL": self.realized_pnl,
        }
