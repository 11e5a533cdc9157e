"""Generated samples (name -> function returning bars), registered by their modules."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

GENERATED: dict[str, Callable[[], pd.DataFrame]] = {}
#: name -> one line saying what the sample is (e.g. "SYNTHETIC minute bars ...").
NOTES: dict[str, str] = {}
