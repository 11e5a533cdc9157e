"""Bar files: the common layout works as is; every defect is refused with file, line and value."""
import pandas as pd
import pytest

from runner.cli import main
from runner.data.bars import clip_window
from runner.data.files import read_csv_bars, write_parquet_bars
from runner.data.parquet_bars import read_parquet_bars
from runner.errors import DataError

HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"
ROWS = ["2018-12-26,100,105,99,104,104,1000\n", "2018-12-27,104,106,101,105,105,1100\n",
        "2018-12-28,105,107,103,106,106,1200\n"]


def csv(tmp_path, text, name="bars.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def refused(path, **kwargs):
    with pytest.raises(DataError) as info:
        read_csv_bars(path, **kwargs)
    return str(info.value)


def test_common_layout_reads_without_configuration(tmp_path):
    bars = read_csv_bars(csv(tmp_path, HEADER + "".join(ROWS)))
    assert list(bars.columns) == ["open", "high", "low", "close", "volume", "adj_close"]
    assert str(bars.index.tz) == "America/New_York"
    assert bars.index[0] == pd.Timestamp("2018-12-26", tz="America/New_York")


def test_configured_columns_and_date_format(tmp_path):
    text = "when;o;h;l;last;qty\n".replace(";", ",") + "26/12/2018,100,105,99,104,1000\n"
    bars = read_csv_bars(csv(tmp_path, text), columns={"time": "when", "close": "last", "volume": "qty"},
                         date_format="%d/%m/%Y")
    assert bars.close.iloc[0] == 104 and bars.index[0].day == 26


def test_intraday_times_with_offsets_are_converted(tmp_path):
    text = "datetime,open,high,low,close,volume\n2018-12-27 14:30:00+00:00,1,1,1,1,5\n"
    bars = read_csv_bars(csv(tmp_path, text))
    assert bars.index[0].strftime("%H:%M") == "09:30"


@pytest.mark.parametrize("rows,needle", [
    ([ROWS[0], "2018-12-2x,104,106,101,105,105,1100\n"], "line 3: cannot read date '2018-12-2x'"),
    ([ROWS[0], "2018-12-27,104,abc,101,105,105,1100\n"], "line 3: high is not a number (got 'abc')"),
    ([ROWS[0], "2018-12-27,104,,101,105,105,1100\n"], "line 3: high is empty"),
    ([ROWS[0], ROWS[0]], "line 3: duplicate timestamp 2018-12-26"),
    ([ROWS[1], ROWS[0]], "line 3: timestamps must increase"),
    ([ROWS[0], "2018-12-27,0,106,0,105,105,1100\n"], "line 3: open must be a positive price (got 0)"),
    ([ROWS[0], "2018-12-27,104,100,101,100.5,105,1100\n"], "line 3: high is below low"),
    ([ROWS[0], "2018-12-27,104,106,101,110,105,1100\n"], "line 3: high is below open or close"),
    ([ROWS[0], "2018-12-27,104,106,101,105,105,-5\n"], "line 3: volume must be >= 0 (got -5)"),
])
def test_defects_are_refused_with_line_and_value(tmp_path, rows, needle):
    message = refused(csv(tmp_path, HEADER + "".join(rows)))
    assert needle in message and str(tmp_path / "bars.csv") in message


@pytest.mark.parametrize("text,needle", [
    ("", "the file is empty"),
    (HEADER, "no bars"),
    ("Date,Open,High,Close\n2018-12-26,1,2,1\n", "missing column(s) for low"),
    ("Date,Open,High,Low,Close\n2018-12-26,1,2,1,1\n", "missing column for volume"),
])
def test_structural_problems(tmp_path, text, needle):
    assert needle in refused(csv(tmp_path, text))


@pytest.mark.parametrize("first,number", [
    ("2018-12-26,100,105,99,104,104,1000,7\n", 2),            # first row: pandas would make it the index
    ("2018-12-26,100,105,99,104,104,1000,5\n" + ROWS[1], 2),
])
def test_a_row_longer_than_the_header_is_refused_not_shifted(tmp_path, first, number):
    """A decimal comma in an unquoted field adds a field; the columns must not silently shift by one."""
    message = refused(csv(tmp_path, HEADER + first))
    assert f"line {number}: 8 fields but the header has 7" in message


def test_binary_and_missing_files(tmp_path):
    binary = tmp_path / "bars.csv"
    binary.write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    assert "not a text CSV file" in refused(binary)
    assert "no such data file" in refused(tmp_path / "none.csv")
    assert "is a folder" in refused(tmp_path)


def test_window_without_bars(tmp_path):
    bars = read_csv_bars(csv(tmp_path, HEADER + "".join(ROWS)))
    with pytest.raises(DataError, match="no bars between 2019-01-01 and the end .*2018-12-26 to 2018-12-28"):
        clip_window(bars, pd.Timestamp("2019-01-01").date(), None, "bars.csv")


def test_parquet_round_trip_and_garbage(tmp_path):
    bars = read_csv_bars(csv(tmp_path, HEADER + "".join(ROWS)))
    path = tmp_path / "bars.parquet"
    write_parquet_bars(bars, path)
    again = read_parquet_bars(path)
    pd.testing.assert_frame_equal(again, bars, check_freq=False)
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        read_parquet_bars(junk)


def test_cli_refuses_bad_data_with_exit_2(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    bad = csv(tmp_path, HEADER + ROWS[0] + "2018-12-27,104,106,101,oops,105,1100\n")
    assert main(["backtest", "--strategy", "december_fade", "--data", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: line 3: close is not a number (got 'oops')" in err and "Traceback" not in err
