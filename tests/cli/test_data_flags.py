"""--date-format, --delimiter, --columns on the command line, and the date format the error suggests."""
from pathlib import Path

import pandas as pd
import pytest

from runner.cli import main
from runner.data.date_formats import suggest_format

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


def _sp500_like(dates) -> pd.DataFrame:
    """The embedded S&P 500 sample's closes, for a real signal, under other column names."""
    from runner.data.sample import load_sample

    bars = load_sample("sp500")
    return pd.DataFrame({"Timestamp": dates(bars.index), "Open": bars.open.to_numpy(), "High": bars.high.to_numpy(),
                         "Low": bars.low.to_numpy(), "Last": bars.close.to_numpy(), "Volume": bars.volume.to_numpy()})


@pytest.fixture
def european_file(tmp_path):
    path = tmp_path / "bars.csv"
    _sp500_like(lambda index: index.strftime("%d/%m/%Y")).to_csv(path, sep=";", index=False)
    return path


def test_the_flags_read_a_european_file_as_yaml_would(european_file, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["backtest", "--strategy", "january_snapback", "--data", str(european_file), "--delimiter", ";",
                 "--date-format", "%d/%m/%Y", "--columns", "time=Timestamp,close=Last", "--out", str(out), "-q"])
    assert code == 0, capsys.readouterr().err
    resolved = (out / "config.resolved.yaml").read_text()
    assert "delimiter: ;" in resolved or "delimiter: ';'" in resolved
    assert "date_format: '%d/%m/%Y'" in resolved and "time: Timestamp" in resolved
    same = tmp_path / "sample"
    assert main(["backtest", "--strategy", "january_snapback", "--set", "strategies.january_snapback.data=sample:sp500",
                 "--out", str(same), "-q"]) == 0
    trades, expected = pd.read_csv(out / "trades.csv"), pd.read_csv(same / "trades.csv")
    assert len(trades) >= 1   # the same bars in another layout: the same trades
    pd.testing.assert_frame_equal(trades, expected)


def test_a_wrong_delimiter_is_named(european_file, capsys):
    assert main(["backtest", "--strategy", "january_snapback", "--data", str(european_file)]) == 2
    err = capsys.readouterr().err
    assert "use --delimiter ';'" in err


def test_dd_mm_dates_are_detected_and_the_format_suggested(european_file, capsys):
    assert main(["backtest", "--strategy", "january_snapback", "--data", str(european_file), "--delimiter", ";",
                 "--columns", "time=Timestamp,close=Last"]) == 2
    err = capsys.readouterr().err
    assert "cannot read date '13/01/1999'" in err
    assert "DD/MM dates detected: use --date-format '%d/%m/%Y'" in err


def test_epoch_seconds_are_detected_and_read(tmp_path, capsys):
    path = tmp_path / "epoch.csv"
    seconds = lambda index: (index.tz_convert("UTC").tz_localize(None) - pd.Timestamp("1970-01-01")) \
        // pd.Timedelta(seconds=1)
    _sp500_like(seconds).to_csv(path, index=False)
    base = ["backtest", "--strategy", "january_snapback", "--data", str(path), "--columns", "time=Timestamp"]
    assert main(base) == 2
    assert "epoch seconds detected: use --date-format 'epoch'" in capsys.readouterr().err
    out = tmp_path / "run"
    assert main([*base, "--date-format", "epoch", "-q", "--out", str(out)]) == 0
    equity = pd.read_csv(out / "equity.csv")
    assert equity.time.iloc[0].startswith("1999-01-04")


def test_epoch_seconds_at_midnight_utc_are_the_session_dates(tmp_path, capsys):
    """Daily bars exported as Unix times of their date (00:00 UTC, 19:00 the evening before in New York)
    are read as those dates: the same trades as the same bars with ISO dates."""
    iso, epoch = tmp_path / "iso.csv", tmp_path / "epoch_utc.csv"
    _sp500_like(lambda index: index.strftime("%Y-%m-%d")).to_csv(iso, index=False)
    midnight_utc = lambda index: (index.tz_localize(None) - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    _sp500_like(midnight_utc).to_csv(epoch, index=False)
    trades = []
    for path, extra in ((iso, []), (epoch, ["--date-format", "epoch"])):
        out = tmp_path / path.stem
        assert main(["backtest", "--strategy", "january_snapback", "--data", str(path), "--columns", "time=Timestamp",
                     *extra, "-q", "--out", str(out)]) == 0, capsys.readouterr().err
        trades.append(pd.read_csv(out / "trades.csv"))
    assert len(trades[0]) > 0
    pd.testing.assert_frame_equal(trades[0], trades[1])


def test_the_flags_need_a_data_file(capsys):
    assert main(["backtest", "--strategy", "december_fade", "--date-format", "%d/%m/%Y"]) == 2
    err = capsys.readouterr().err
    assert "--date-format: apply to data files" in err and "--data PATH" in err


def test_a_bad_columns_flag(european_file, capsys):
    assert main(["backtest", "--data", str(european_file), "--columns", "time:Timestamp"]) == 2
    assert "expected ours=theirs pairs" in capsys.readouterr().err


@pytest.mark.parametrize("values, expected", [
    (["31/12/2018", "02/01/2019"], "%d/%m/%Y"),
    (["12/31/2018 15:59", "01/02/2019 09:30"], "%m/%d/%Y %H:%M"),
    (["20181231", "20190102"], "%Y%m%d"),
    (["1546290000", "1546439400"], "epoch"),
    (["1546290000000", "1546439400000"], "epoch_ms"),
    (["31.12.2018", "02.01.2019"], "%d.%m.%Y"),
])
def test_suggested_formats(values, expected):
    assert suggest_format(pd.Series(values))[0] == expected


def test_nothing_is_suggested_for_nonsense():
    assert suggest_format(pd.Series(["yesterday", "soon"])) is None
