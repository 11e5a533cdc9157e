"""Generated samples: name -> function returning bars, and a line saying what each is.

The registry lists its entries; the sample modules know nothing of it (no import circle).
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from runner.data import intraday_sample

GENERATED: dict[str, Callable[[], pd.DataFrame]] = {
    intraday_sample.SAMPLE_NAME: intraday_sample.spy_1min_synthetic,
}
#: name -> one line saying what the sample is (e.g. "SYNTHETIC minute bars ...").
NOTES: dict[str, str] = {
    intraday_sample.SAMPLE_NAME: intraday_sample.NOTE,
}
