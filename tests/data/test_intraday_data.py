"""1-minute bar files end to end: the CLI runs the intraday playbook on them, or refuses them with exit 2.

Every refusal names the file, the line and the value; none shows a traceback.
"""
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from runner.cli import main
from runner.data.intraday_sample import synthetic_minute_bars

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def minutes() -> pd.DataFrame:
    # The last week of May 2019 (month end: the 29th, 30th and 31st are eligible); a push every day.
    return synthetic_minute_bars(dt.date(2019, 5, 24), dt.date(2019, 5, 31), seed=5,
                                 eligible=lambda day: True, push_share_eligible=1.0)


def write_csv(bars: pd.DataFrame, path: Path) -> Path:
    out = bars.copy()
    out.index = out.index.tz_localize(None).strftime("%Y-%m-%d %H:%M:%S")
    out.index.name = "Datetime"
    out.rename(columns=str.capitalize).to_csv(path)
    return path


def backtest(*args) -> int:
    return main(["backtest", "--strategy", "vwap_close_fade", *map(str, args)])


def test_default_sample_run_is_labelled_synthetic(tmp_path, capsys):
    out = tmp_path / "run"
    assert backtest("--out", out) == 0
    trades = pd.read_csv(out / "trades.csv")
    assert len(trades) > 0 and set(trades.strategy) == {"vwap_close_fade"}
    times = pd.to_datetime(trades.entry_time, utc=True).dt.tz_convert("America/New_York")
    assert (times.dt.time >= dt.time(12, 30)).all()
    assert "SYNTHETIC" in capsys.readouterr().out
    assert "SYNTHETIC" in (out / "report.html").read_text()


def test_user_csv_of_minutes(tmp_path, minutes):
    data = write_csv(minutes, tmp_path / "spy_1min.csv")
    out = tmp_path / "run"
    assert backtest("--data", data, "--out", out) == 0
    trades = pd.read_csv(out / "trades.csv")
    assert len(trades) >= 1
    assert set(pd.to_datetime(trades.entry_time, utc=True).dt.tz_convert("America/New_York").dt.date) <= {
        dt.date(2019, 5, 29), dt.date(2019, 5, 30), dt.date(2019, 5, 31)}


def test_user_parquet_of_minutes(tmp_path, minutes):
    data = tmp_path / "spy_1min.parquet"
    minutes.to_parquet(data)
    assert backtest("--data", data, "--out", tmp_path / "run") == 0


def refused(capsys, *args) -> str:
    assert backtest(*args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_unsorted_minutes_are_refused(tmp_path, minutes, capsys):
    rows = minutes.iloc[:50]
    swapped = pd.concat([rows.iloc[:10], rows.iloc[[11, 10]], rows.iloc[12:]])
    data = write_csv(swapped, tmp_path / "unsorted.csv")
    err = refused(capsys, "--data", data, "--out", tmp_path / "run")
    assert str(data) in err and "line 13" in err and "sort the file" in err


def test_duplicate_minutes_are_refused(tmp_path, minutes, capsys):
    rows = minutes.iloc[:50]
    data = write_csv(pd.concat([rows.iloc[:21], rows.iloc[20:]]), tmp_path / "duplicate.csv")
    err = refused(capsys, "--data", data, "--out", tmp_path / "run")
    assert "line 23" in err and "duplicate" in err and "09:50" in err


def test_bars_outside_regular_hours_are_refused_or_dropped(tmp_path, minutes, capsys):
    early = minutes.iloc[:1].copy()
    early.index = early.index - pd.Timedelta(minutes=90)          # 08:00, before the open
    data = write_csv(pd.concat([early, minutes]), tmp_path / "premarket.csv")
    err = refused(capsys, "--data", data, "--out", tmp_path / "run")
    assert "line 2" in err and "08:00" in err and "outside regular hours" in err and "outside_hours: drop" in err

    config = tmp_path / "drop.yaml"
    config.write_text(f"strategies:\n  - name: vwap_close_fade\n    symbol: SPY\n"
                      f"    data: {{path: {data}, outside_hours: drop}}\n")
    assert main(["backtest", "-c", str(config), "--out", str(tmp_path / "dropped")]) == 0


def test_a_bar_at_the_early_close_is_outside_regular_hours(tmp_path, capsys):
    bars = synthetic_minute_bars(dt.date(2019, 11, 29), dt.date(2019, 11, 29), seed=1)
    late = bars.iloc[-1:].copy()
    late.index = late.index + pd.Timedelta(minutes=1)             # 13:00 on a 13:00 close
    data = write_csv(pd.concat([bars, late]), tmp_path / "late.csv")
    err = refused(capsys, "--data", data, "--out", tmp_path / "run")
    assert f"line {len(bars) + 2}" in err and "13:00" in err and "09:30 to 13:00" in err


def test_daily_file_is_refused_for_the_intraday_playbook(tmp_path, capsys):
    daily = tmp_path / "daily.csv"
    daily.write_text("Date,Open,High,Low,Close,Volume\n2019-05-29,10,11,9,10.5,100\n2019-05-30,10,11,9,10.5,100\n")
    err = refused(capsys, "--data", daily, "--out", tmp_path / "run")
    assert str(daily) in err and "daily bars" in err and "1-minute bars" in err


def test_five_minute_bars_are_refused(tmp_path, minutes, capsys):
    data = write_csv(minutes.iloc[::5], tmp_path / "five.csv")
    err = refused(capsys, "--data", data, "--out", tmp_path / "run")
    assert "5 minutes apart" in err


def test_minute_file_is_refused_for_a_daily_playbook(tmp_path, minutes, capsys):
    data = write_csv(minutes, tmp_path / "spy_1min.csv")
    assert main(["backtest", "--strategy", "december_fade", "--data", str(data), "--out", str(tmp_path / "r")]) == 2
    assert "daily playbook" in capsys.readouterr().err


def test_missing_minutes_are_reported_not_refused(tmp_path, minutes):
    from loguru import logger

    from runner.data.files import read_csv_bars
    from runner.data.intraday import check_intraday

    gappy = minutes.drop(minutes.index[100:103])
    data = write_csv(gappy, tmp_path / "gappy.csv")
    assert backtest("--data", data, "--out", tmp_path / "run") == 0
    warnings: list[str] = []
    sink = logger.add(lambda message: warnings.append(str(message)), level="WARNING")
    try:
        checked = check_intraday(read_csv_bars(data), str(data))
    finally:
        logger.remove(sink)
    assert len(checked) == len(gappy)
    assert any(str(data) in w and "11:10" in w for w in warnings)   # the first gap is named
