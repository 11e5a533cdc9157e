"""The pyarrow CSV reader reads what the text reader reads, and hands anything else to it."""
from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from runner.data import csv_fast
from runner.data.files import read_csv_bars
from runner.errors import DataError

DAILY = ("Date,Open,High,Low,Close,Adj Close,Volume\n2018-12-26,100,105,99,104,103.5,1000\n"
         "2018-12-27,104,106,101,105,104.5,1100\n2018-12-28,105,107,103,106,105.5,1200\n")
MINUTE_OFFSETS = ("Datetime,Open,High,Low,Close,Volume\n2019-03-01 09:30:00-05:00,10,11,9.5,10.5,300\n"
                  "2019-03-01 09:31:00-05:00,10.5,10.75,10.25,10.5,200\n")
MINUTE_NAIVE = ("timestamp,open,high,low,close,volume\n2019-07-01 15:58:00,10,11,9.5,10.5,300\n"
                "2019-07-01 15:59:00,10.5,10.75,10.25,10.5,200\n")
OWN_LAYOUT = "when,o,h,l,last,qty\n26/12/2018,100,105,99,104,1000\n27/12/2018,104,106,101,105,1100\n"


def _text_reader(monkeypatch, path, **kwargs):
    with monkeypatch.context() as patch:
        patch.setattr(csv_fast, "read_csv_columns", lambda *a, **k: None)
        return read_csv_bars(path, **kwargs)


@pytest.mark.parametrize("text, kwargs", [
    (DAILY, {}),
    (MINUTE_OFFSETS, {}),
    (MINUTE_NAIVE, {}),
    (MINUTE_NAIVE, {"timezone": "UTC"}),
    (OWN_LAYOUT, {"columns": {"time": "when", "close": "last", "volume": "qty"}, "date_format": "%d/%m/%Y"}),
])
def test_the_fast_reader_gives_the_text_readers_bars(tmp_path, monkeypatch, text, kwargs):
    path = tmp_path / "bars.csv"
    path.write_text(text)
    assert csv_fast.read_csv_columns(path, kwargs.get("columns"), kwargs.get("date_format"), str(path)) is not None
    fast = read_csv_bars(path, **kwargs)
    pd.testing.assert_frame_equal(fast, _text_reader(monkeypatch, path, **kwargs))


def test_gzip_files_take_the_fast_reader(tmp_path, monkeypatch):
    path = tmp_path / "bars.csv.gz"
    path.write_bytes(gzip.compress(DAILY.encode()))
    assert csv_fast.read_csv_columns(path, None, None, str(path)) is not None
    pd.testing.assert_frame_equal(read_csv_bars(path), _text_reader(monkeypatch, path))


@pytest.mark.parametrize("row, message", [
    ("2018-12-31,106,108,,107,107,900", "line 5: low is empty"),
    ("2018-12-31,106,108,abc,107,107,900", "line 5: low is not a number (got 'abc')"),
    ("2018-12-31,106,108,104,inf,107,900", "line 5: close is not a number (got 'inf')"),
    ("31.12.2018,106,108,104,107,107,900", "line 5: cannot read date '31.12.2018'"),
    ("2018-12-31,106,108,104,107,107,-5", "line 5: volume must be >= 0 (got -5)"),
])
def test_bad_values_are_named_with_their_line_as_before(tmp_path, row, message):
    path = tmp_path / "bars.csv"
    path.write_text(DAILY + row + "\n")
    with pytest.raises(DataError) as info:
        read_csv_bars(path)
    assert message in str(info.value)


def test_thousands_separators_are_read_by_the_text_reader(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text('Date,Open,High,Low,Close,Volume\n2018-12-26,100,105,99,104,"1,000"\n')
    assert csv_fast.read_csv_columns(path, None, None, str(path)) is None
    assert read_csv_bars(path)["volume"].iloc[0] == 1000.0


def test_the_fast_reader_keeps_float64_columns(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text(DAILY)
    times, numbers = csv_fast.read_csv_columns(path, None, None, str(path))
    assert all(values.dtype == np.float64 for values in numbers.values())
    assert len(times) == 3


@pytest.mark.parametrize("seed", range(6))
def test_a_file_of_many_blocks_reads_as_the_text_reader_reads_it(tmp_path, monkeypatch, seed):
    # Blocks of 1 KB: the streamed columns are put together across a few hundred blocks; a bad value in a
    # late block still hands the file to the text reader, which names its line.
    monkeypatch.setattr(csv_fast, "BLOCK_BYTES", 1024)
    # The arrays are made for a guess of the rows: too few (they grow as blocks come) or too many (a view).
    monkeypatch.setattr(csv_fast, "_rows_guess", lambda path: [1, 7, 10_000][seed % 3])
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(300, 900))
    stamps = pd.date_range("2019-03-04 09:30", periods=rows, freq="min", tz="America/New_York")
    close = 100 + np.cumsum(rng.normal(0, 0.1, rows)).round(2)
    frame = pd.DataFrame({"Open": close, "High": close + 0.05, "Low": close - 0.05, "Close": close,
                          "Volume": rng.integers(1, 1000, rows).astype(float)}, index=stamps.rename("Datetime"))
    if seed % 2:
        frame.index = frame.index.tz_localize(None)
    path = tmp_path / "bars.csv"
    frame.to_csv(path)
    assert csv_fast.read_csv_columns(path, None, None, str(path)) is not None
    pd.testing.assert_frame_equal(read_csv_bars(path), _text_reader(monkeypatch, path))
    lines = path.read_text().splitlines()
    bad = int(rng.integers(rows // 2, rows))
    cells = lines[bad].split(",")
    cells[3] = ""
    lines[bad] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    assert csv_fast.read_csv_columns(path, None, None, str(path)) is None
    with pytest.raises(DataError, match=f"line {bad + 1}: low is empty"):
        read_csv_bars(path)
