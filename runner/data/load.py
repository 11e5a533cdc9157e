"""Load the bars a run config asks for: one table per feed name, clipped to the run window."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from runner.config import DataSource, RunConfig
from runner.data.bars import clip_window, is_daily
from runner.data.checksum import prefetch_sha256
from runner.data.intraday import check_intraday
from runner.data.memory import return_big_blocks_on_free
from runner.data.files import read_csv_bars
from runner.data.parquet_bars import read_parquet_bars
from runner.data.sample import load_sample
from runner.data.bars import extra_feed_name
from runner.errors import DataError
from strategies import market_calendar
from strategies.registry import card_of


def _file_kind(source: DataSource) -> str:
    if source.sample is not None:
        return "sample"
    if source.cache is not None:
        return "parquet"
    if source.format != "auto":
        return source.format
    return "parquet" if Path(source.path).suffix.lower() in (".parquet", ".pq") else "csv"


def load_source(source: DataSource, *, cache_folder: Path | str = Path("logs/cache"),
                bar_size: str = "1 day") -> pd.DataFrame:
    """Bars of one data source (validated). Samples are cached; files are read each time.

    An IB cache source reads ``cache_folder``; ``bar_size`` is used when the source names none.
    """
    if source.sample is not None:
        return load_sample(source.sample)
    if source.cache is not None:
        from runner.data.cache import CachedSeries
        from runner.ib.bars import BarSize

        series = CachedSeries.open(cache_folder, source.cache, BarSize.parse(source.bar_size or bar_size),
                                   source.what, rth=not source.all_hours)
        return series.load()
    path = Path(source.path).expanduser()
    kind = _file_kind(source)
    if kind == "parquet":
        bars = read_parquet_bars(path, columns=source.columns, timezone=source.timezone)
    else:
        bars = read_csv_bars(path, columns=source.columns, date_format=source.date_format,
                             timezone=source.timezone, delimiter=source.delimiter, decimal=source.decimal)
    prefetch_sha256(path)   # the run records its checksum: hashed in the background, under the backtest
    return bars


def load_run_bars(cfg: RunConfig) -> dict[str, pd.DataFrame]:
    """Feed name -> bars for every active strategy, inside [cfg.start, cfg.end].

    Extra feeds (e.g. bonds) are aligned to their instrument's bars by carrying
    the last known value forward: never a value from the future.
    """
    return_big_blocks_on_free()   # the checks' 16 MB temporaries are not kept resident under the run
    bars: dict[str, pd.DataFrame] = {}
    described: dict[str, str] = {}
    for strategy in cfg.active_strategies():
        source_name = strategy.data.describe()
        if strategy.symbol in bars and described[strategy.symbol] != source_name:
            raise DataError(f"symbol {strategy.symbol} is given two data sources: "
                            f"{described[strategy.symbol]} and {source_name}")
        where = {"cache_folder": cfg.data.cache_folder,
                 "bar_size": "1 min" if getattr(card_of(strategy.name), "bar_minutes", 0) else "1 day"}
        if strategy.symbol not in bars:
            instrument = _check_bar_kind(load_source(strategy.data, **where), strategy)
            bars[strategy.symbol] = clip_window(instrument, cfg.start, cfg.end, source_name)
            _check_calendar_span(bars[strategy.symbol], source_name)
            _note_short_window(instrument, cfg, source_name)
            described[strategy.symbol] = source_name
        _check_meaningful(bars[strategy.symbol], strategy, source_name, cfg)
        for role, source in strategy.feeds.items():
            instrument = bars[strategy.symbol]
            if where["bar_size"] != "1 day":   # an intraday playbook's filters read daily feeds, as they are
                bars[extra_feed_name(strategy.symbol, role)] = daily_filter_feed(
                    load_source(source, cache_folder=cfg.data.cache_folder, bar_size="1 day"), instrument,
                    f"{strategy.display_name} feeds.{role} ({source.describe()})")
                continue
            extra = load_source(source, **where)
            bars[extra_feed_name(strategy.symbol, role)] = align_to(extra, instrument.index, source.describe())
    return bars


def daily_filter_feed(extra: pd.DataFrame, instrument: pd.DataFrame, what: str) -> pd.DataFrame:
    """A daily feed of an intraday playbook (its filters' legs): daily bars up to the instrument's last session,
    with the history before its first one (warm-up), not aligned to the minutes. Each bar is stamped at its
    session's end, so a decision during a session reads the previous session's close, never its own."""
    if not is_daily(extra):
        raise DataError(f"{what}: intraday bars (first {extra.index[0]}); the filters of an intraday playbook read "
                        f"daily bars (sessions): give daily bars stamped with the session date")
    last = instrument.index[-1].tz_convert(extra.index.tz).normalize() if extra.index.tz is not None \
        else instrument.index[-1].tz_localize(None).normalize()
    kept = extra[extra.index <= last]
    if not len(kept) or kept.index[0].date() > instrument.index[0].date():
        first = "none" if not len(kept) else str(kept.index[0].date())
        raise DataError(f"{what}: its first daily bar ({first}) is after the instrument's first session "
                        f"({instrument.index[0].date()}); give daily bars from before it")
    return kept


def align_to(extra: pd.DataFrame, index: pd.DatetimeIndex, source: str) -> pd.DataFrame:
    aligned = extra.reindex(extra.index.union(index)).ffill().reindex(index)
    if aligned["close"].isna().any():
        first = index[aligned["close"].isna().to_numpy()][0]
        raise DataError(f"{source}: has no value on or before {first.date()}, the instrument's first bar")
    return aligned


def _note_short_window(frame: pd.DataFrame, cfg: RunConfig, source_name: str) -> None:
    """Say so when the run window reaches beyond the data (the run covers less than asked), by more than a week."""
    from loguru import logger

    first, last = frame.index[0].date(), frame.index[-1].date()
    if cfg.start and (first - cfg.start).days > 7:
        logger.warning(f"{source_name}: the bars start {first}, {(first - cfg.start).days} days after start "
                       f"{cfg.start}; the run covers {first} on")
    if cfg.end and (cfg.end - last).days > 7 and cfg.end <= pd.Timestamp.now().date():
        logger.warning(f"{source_name}: the bars end {last}, {(cfg.end - last).days} days before end {cfg.end}; "
                       f"the run covers up to {last}")


def _check_calendar_span(frame: pd.DataFrame, source_name: str) -> None:
    """Bars the NYSE calendar cannot place (before its first year, or in the future: a misread year) are refused."""
    first, last = frame.index[0].date(), frame.index[-1].date()
    calendar_start = pd.Timestamp(market_calendar.CALENDAR_START).date()
    if first < calendar_start:
        later = frame.index[frame.index.date >= calendar_start]
        hint = (f"set start: {later[0].date()} (or --start) to use the bars from then on" if len(later)
                else "give bars from then on")
        raise DataError(f"{source_name}: the bars start {first}, before {calendar_start}, the first date of the NYSE "
                        f"calendar the playbooks use (sessions, OPEX, early closes); {hint}")
    today = pd.Timestamp.now(tz="America/New_York").date()
    if last > today:
        raise DataError(f"{source_name}: a bar is dated {last}, after today ({today}); bars are history (a two-digit "
                        f"year read in the wrong century? name the format in data.date_format)")


def _check_meaningful(frame: pd.DataFrame, strategy, source_name: str, cfg: RunConfig) -> None:
    """Refuse data on which the playbook cannot act at all, instead of a quiet run with 0 trades."""
    playbook = card_of(strategy.name)
    window = (f"between {cfg.start or 'the start'} and {cfg.end or 'the end'}"
              if cfg.start or cfg.end else "in the data")
    first = float(frame["open"].iloc[0])   # column by column: no 4-column copy of a 2-million-row table
    if len(frame) > 1 and all((frame[c].to_numpy() == first).all() for c in ("open", "high", "low", "close")):
        raise DataError(f"{source_name}: every bar {window} has the same price ({first:g}) for open, high, low "
                        f"and close; {strategy.name} acts on price moves, so the run could only make 0 trades "
                        f"(a placeholder or a column read wrongly?)")
    if getattr(playbook, "bar_minutes", 0):
        if not (frame["volume"].to_numpy() > 0).any():
            raise DataError(f"{source_name}: every bar {window} has zero volume; {strategy.name} weighs prices by "
                            f"volume (the session VWAP), so it cannot run on this data")
        return
    params = strategy.typed_params()
    # Each indicator's warm-up (backtrader fails deep inside on fewer bars), then a bar to decide on.
    warmups = [(int(getattr(params, "atr_period", 0)), "its ATR, atr_period")]
    for i, spec in enumerate(getattr(params, "filters", None) or ()):
        if getattr(spec, "sessions", None):
            warmups.append((int(spec.sessions) + 1, f"filter {i} ({spec.signal}), sessions {spec.sessions}"))
    longest, what = max(warmups)
    needed = longest + 2
    if len(frame) < needed:
        raise DataError(f"{source_name}: {len(frame)} daily bar(s) {window}; {strategy.name} needs at least "
                        f"{needed} ({longest} to warm up {what}, and one to act on): widen the window or give a "
                        f"longer file")


def _check_bar_kind(frame: pd.DataFrame, strategy) -> pd.DataFrame:
    """Intraday playbooks get checked 1-minute bars; daily playbooks refuse intraday files."""
    source = strategy.data
    name = source.describe()
    if getattr(card_of(strategy.name), "bar_minutes", 0):
        kind = _file_kind(source)
        label = (lambda i: f"line {i + 2}") if kind == "csv" else (lambda i: f"row {i + 1}")
        return check_intraday(frame, name, label, outside_hours=source.outside_hours, who=strategy.name)
    if not is_daily(frame):
        raise DataError(f"{name}: intraday bars (first {frame.index[0]}) but {strategy.name} is a daily playbook; "
                        f"give it daily bars stamped with the session date")
    _check_session_dates(frame, name, _file_kind(source))
    return frame


def _check_session_dates(frame: pd.DataFrame, name: str, kind: str) -> None:
    """Daily bars on a Saturday or Sunday are refused (NYSE has no such session: dates misread, shifted a day
    by a time zone, or another market's bars); weekday bars on an NYSE holiday are said, and kept."""
    weekdays = frame.index.day_of_week.to_numpy()
    label = (lambda i: f"line {i + 2}") if kind == "csv" else (lambda i: f"row {i + 1}")
    if (weekdays >= 5).any():
        i = int((weekdays >= 5).argmax())
        count = int((weekdays >= 5).sum())
        raise DataError(f"{name}: {label(i)}: a daily bar dated {frame.index[i].date()}, a "
                        f"{frame.index[i].day_name()} ({count:,} bar(s) fall on weekends); NYSE has no session "
                        f"then: dates read in the wrong format, shifted a day by a time zone, or another market's "
                        f"bars?")
    wall = frame.index.tz_localize(None) if frame.index.tz is not None else frame.index
    days = wall.to_numpy().astype("datetime64[D]")   # each bar's date where it was stamped (index.date)
    known = (np.datetime64(market_calendar.CALENDAR_START, "D"),
             np.datetime64(pd.Timestamp.now(tz="America/New_York").date(), "D"))
    closed = np.flatnonzero((days >= known[0]) & (days < known[1]) & ~market_calendar.are_sessions(days))
    if len(closed):
        from loguru import logger

        first = int(closed[0])
        logger.warning(f"{name}: {label(first)}: a bar dated {frame.index[first].date()}, when NYSE was closed "
                       f"({len(closed):,} such bar(s)); kept, but the playbooks count NYSE sessions")
