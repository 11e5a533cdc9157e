"""validate_bars' value checks: a clean column passes on its least and greatest values, and any bad value
still gets the message naming its row, column and value (the first bad row of the column)."""
import numpy as np
import pandas as pd
import pytest

from runner.data.bars import validate_bars
from runner.errors import DataError


def frame(n: int = 50) -> pd.DataFrame:
    close = np.linspace(100.0, 101.0, n)
    return pd.DataFrame({"open": close, "high": close + 0.5, "low": close - 0.5, "close": close,
                         "adj_close": close, "volume": np.full(n, 1000.0)},
                        index=pd.date_range("2019-03-04 09:30", periods=n, freq="min", tz="America/New_York"))


def message(bars: pd.DataFrame) -> str:
    with pytest.raises(DataError) as caught:
        validate_bars(bars, "f.csv", lambda i: f"line {i + 2}")
    return str(caught.value)


def test_clean_bars_pass_unchanged():
    bars = frame()
    out = validate_bars(bars, "f.csv")
    pd.testing.assert_frame_equal(out, bars[list(out.columns)].rename_axis("time"))


PRICE_CASES = [
    (np.nan, "{c} is missing or not a number"),
    (np.inf, "{c} is missing or not a number"),
    (-np.inf, "{c} is missing or not a number"),
    (0.0, "{c} must be a positive price (got 0)"),
    (-3.0, "{c} must be a positive price (got -3)"),
    (5e-5, "{c} 5e-05 is not a plausible price (below 0.0001); check the file's units"),
    (2e9, "{c} 2e+09 is not a plausible price (above 1e+09); check the file's units"),
]


@pytest.mark.parametrize("column", ["open", "high", "low", "close", "adj_close"])
@pytest.mark.parametrize("value, expected", PRICE_CASES)
def test_a_bad_price_is_named_with_its_row(column, value, expected):
    bars = frame()
    bars.loc[bars.index[[17, 30]], column] = value
    assert message(bars) == f"f.csv: line 19: {expected.format(c=column)}"


@pytest.mark.parametrize("value, expected", [
    (np.nan, "volume is missing or not a number"),
    (-1.0, "volume must be >= 0 (got -1)"),
    (2e13, "volume 2e+13 is not a plausible volume (above 1e+13); check the file's units"),
])
def test_a_bad_volume_is_named_with_its_row(value, expected):
    bars = frame()
    bars.loc[bars.index[[4, 9]], "volume"] = value
    assert message(bars) == f"f.csv: line 6: {expected}"


def test_values_at_the_bounds_pass():
    bars = frame(3)
    bars["volume"] = [0.0, -0.0, 1e13]
    bars[["open", "close", "adj_close"]] = 1e-4
    bars["low"], bars["high"] = 1e-4, 1e9
    validate_bars(bars, "f.csv")
