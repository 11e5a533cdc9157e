"""Can the paper risk limits size any trade at all? (``flowbot config check`` asks.)

Contract: ``sizing_warnings(cfg)`` returns one message per active playbook
whose entries the ``risk:`` limits would size to nothing, judged on the
playbook's own bars (its ``data:``, the latest close and the median
``atr_period`` ATR of the last year): ``max_position_value`` below one share
at that close, or ``max_daily_loss`` below the loss of one share at the stop
(``stop_atr`` ATRs away, for the playbooks that have one). The broker caps
every size to those limits (saying so in the log), so a limit below one share
means the playbook never trades. Bars that cannot be read are skipped: the
data check is ``flowbot backtest``'s job.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from runner.config import RunConfig

if TYPE_CHECKING:
    import pandas as pd


def _typical_atr(bars: pd.DataFrame, period: int) -> float:
    import pandas as pd   # here: a config without risk limits is checked without pandas

    recent = bars.tail(260)
    previous = recent["close"].shift(1)
    true_range = pd.concat([recent["high"] - recent["low"], (recent["high"] - previous).abs(),
                            (recent["low"] - previous).abs()], axis=1).max(axis=1)
    return float(true_range.rolling(period).mean().median())


def sizing_warnings(cfg: RunConfig) -> list[str]:
    limits = cfg.risk
    if limits.max_position_value is None and limits.max_daily_loss is None:
        return []
    from runner.data.load import load_source   # the bars: pandas, only when there are limits to judge
    from runner.errors import FlowbotError

    warnings = []
    for index, strategy in enumerate(cfg.strategies):
        if not strategy.enabled:
            continue
        try:
            bars = load_source(strategy.data)
        except (FlowbotError, OSError):
            continue
        if bars.empty:
            continue
        where = f"strategies[{index}] {strategy.display_name} ({strategy.symbol})"
        close = float(bars["close"].iloc[-1])
        value_cap = limits.max_position_value
        if value_cap is not None and value_cap < close:
            warnings.append(f"{where}: risk.max_position_value {value_cap:,.0f} is below one share at the latest "
                            f"close {close:,.2f} of its data: every entry would be sized to 0; raise the limit")
        params = strategy.typed_params()
        stop_atr = getattr(params, "stop_atr", None)
        loss_cap = limits.max_daily_loss
        if loss_cap is not None and stop_atr:
            per_share = stop_atr * _typical_atr(bars, getattr(params, "atr_period", 14))
            if math.isfinite(per_share) and loss_cap < per_share:
                warnings.append(f"{where}: risk.max_daily_loss {loss_cap:,.0f} is below the loss of one share at "
                                f"its stop ({stop_atr:g} ATR = {per_share:,.2f} on its data): every entry would "
                                f"be sized to 0; raise the limit or narrow params.stop_atr")
    return warnings
