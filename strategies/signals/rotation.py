"""Relative strength of one instrument against another over N sessions (rotation, breadth).

``rs = (L_t / L_{t-n}) / (S_t / S_{t-n}) - 1``, in percent: positive when the
long leg outran the short one. Pairs the research names: IWM/SPY (small caps
against large caps), RSP/SPY (equal weight against cap weight), QQQ/SPY (the
NDX against the SPX: negative when flows go to the broad index, not just tech).
"""
from __future__ import annotations

import pandas as pd

from strategies.signals.periods import total_return_closes


def relative_strength(long: pd.DataFrame, short: pd.DataFrame, sessions: int) -> pd.Series:
    """Per bar of ``long``: its N-session total return relative to ``short``'s, percent (NaN in warm-up)."""
    if sessions < 1:
        raise ValueError(f"sessions must be >= 1 (got {sessions})")
    long_close, _ = total_return_closes(long)
    short_close, _ = total_return_closes(short)
    short_close = short_close.reindex(short_close.index.union(long_close.index)).ffill().reindex(long_close.index)
    ratio = long_close / short_close
    return ((ratio / ratio.shift(sessions) - 1.0) * 100.0).rename(f"rs_{sessions}")
