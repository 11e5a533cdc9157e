"""Generated samples (name -> function returning bars), registered by their modules."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

GENERATED: dict[str, Callable[[], pd.DataFrame]] = {}
#: name -> one line saying what the sample is (e.g. "SYNTHETIC minute bars ...").
NOTES: dict[str, str] = {}

# Built-in generated samples register themselves on import (after the tables above exist).
from runner.data import intraday_sample  # noqa: E402,F401  (sample:spy_1min_synthetic)
