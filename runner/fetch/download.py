"""``flowbot fetch``: historical bars from IB (real or simulated gateway) into the local Parquet cache.

:func:`fetch_bars` is the library entry; the CLI (``runner.fetch.command``)
only parses arguments. What a fetch guarantees:

- requests only NYSE sessions that have closed and are not cached yet, in
  chunks of IB's largest duration per bar size (``runner.fetch.plan``);
- every request passes the pacing limiter (``runner.ib.pacing``), so a long
  fetch keeps IB's rules; a 162, a timeout or a dropped connection backs off
  and retries (``runner.ib.historical``);
- fetched bars pass ``validate_bars`` and merge into the dataset session by
  session (``runner.data.cache``); the dataset and its manifest are saved every
  few seconds and when the fetch ends for any reason (Ctrl-C included), so
  the same command run again resumes where it stopped;
- a session the gateway answers without bars is a gap: logged, listed in the
  manifest and in :class:`FetchResult`, never silently skipped.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
from loguru import logger

from runner.data.cache import CachedSeries
from runner.errors import DataError, UserInputError
from runner.fetch.plan import Chunk, WHAT, bar_size_label, plan_chunks, sessions_to_fetch
from runner.ib.backfill import to_bar
from runner.ib.bars import BarSize
from runner.ib.historical import request_bars
from runner.ib.ib_config import IBConfig
from runner.ib.pacing import PacingLimiter, minimum_seconds
from runner.ib.sessions import NEW_YORK, Sessions


@dataclass(frozen=True)
class FetchRequest:
    """What to fetch: one instrument, one bar size, a range of sessions."""

    symbol: str
    size: BarSize
    start: dt.date
    end: dt.date
    what: str = "TRADES"
    rth: bool = True
    cache_folder: Path = Path("logs") / "cache"


@dataclass
class FetchResult:
    series: CachedSeries
    sessions_in_range: int = 0
    already_cached: int = 0
    chunks_planned: int = 0
    chunks_done: int = 0
    bars_received: int = 0
    requests: int = 0
    gaps: list[tuple[dt.date, str]] = field(default_factory=list)
    not_closed: int = 0            # sessions in the range that had not closed at the gateway's time
    seconds: float = 0.0
    waited: float = 0.0            # seconds spent waiting for the pacing rules
    chunk_seconds: float = 0.0     # seconds inside the chunks' requests (waits, retries and answers)


def fetch_bars(request: FetchRequest, ib: IBConfig, *, limiter: PacingLimiter | None = None,
               progress: bool = True, flush_seconds: float = 5.0,
               on_chunk: Callable[[Chunk, int], None] | None = None, retries: int = 6) -> FetchResult:
    """Fetch ``request`` through the gateway in ``ib`` into the cache; see the module doc."""
    from runner.ib.store import IBStore   # the IB library loads only when a fetch runs

    if request.what not in WHAT:
        raise UserInputError(f"--what {request.what}: expected one of {', '.join(WHAT)}")
    if request.what == "ADJUSTED_LAST" and not request.size.daily:
        raise UserInputError("--what ADJUSTED_LAST: IB adjusts daily bars only; use --bar-size '1 day'")
    if request.start > request.end:
        raise UserInputError(f"--start {request.start} is after --end {request.end}")
    sessions = Sessions()
    in_range = sessions.sessions_between(request.start, request.end)
    if not in_range:
        raise UserInputError(f"no NYSE session between {request.start} and {request.end} (weekends and holidays only)")
    series = CachedSeries.open(request.cache_folder, request.symbol, request.size, request.what, request.rth)
    result = FetchResult(series, sessions_in_range=len(in_range))
    limiter = limiter or PacingLimiter()
    store = IBStore(ib, journal_dir=None)   # a fetch sends no orders: no journal file beside the cache
    started = time.monotonic()
    store.connect()
    try:
        contract = store.call(store.qualify(series.symbol), timeout=ib.request_timeout + 10)
        if contract is None:
            raise DataError(f"IB does not know the stock {series.symbol} ({ib.exchange}, {ib.currency}): check the "
                            f"symbol (IB's spelling, e.g. BRK B), or set ib.primary_exchange for it")
        series.con_id = int(contract.conId)
        now = store.call(store.current_time(), timeout=ib.request_timeout + 10).astimezone(NEW_YORK)
        done = series.complete if request.what == "TRADES" else set()
        days = sessions_to_fetch(request.start, request.end, now, sessions, done)
        result.already_cached = sum(1 for d in in_range if d in done)
        result.not_closed = sum(1 for d in in_range if sessions.close_of(d) > now)
        chunks = plan_chunks(days, request.size, sessions, rth=request.rth, what=request.what)
        result.chunks_planned = len(chunks)
        label = f"{series.symbol} {bar_size_label(request.size)}"
        logger.info(f"fetch {label} {request.start}..{request.end}: {len(in_range)} sessions, "
                    f"{result.already_cached} already cached, {len(days)} to fetch in {len(chunks)} requests "
                    f"(IB pacing allows that in no less than {_duration(minimum_seconds(len(chunks)))}); "
                    f"cache {series.path}")
        if result.not_closed:
            logger.warning(f"{result.not_closed} session(s) up to {request.end} have not closed yet at the "
                           f"gateway's time ({now:%Y-%m-%d %H:%M}); they are not fetched")
        _run_chunks(store, contract, chunks, series, request, limiter, result, progress, flush_seconds,
                    on_chunk, retries, label)
    finally:
        try:
            series.save()
        finally:
            store.stop()
            result.requests = limiter.requests
            result.waited = limiter.waited
            result.seconds = time.monotonic() - started
    for day, why in result.gaps:
        logger.warning(f"gap: {series.symbol} {day}: {why}")
    return result


def _run_chunks(store, contract, chunks: list[Chunk], series: CachedSeries, request: FetchRequest,
                limiter: PacingLimiter, result: FetchResult, progress: bool, flush_seconds: float,
                on_chunk, retries: int, label: str) -> None:
    cfg = store.cfg
    last_save = time.monotonic()
    per_request: list[float] = []
    with _Progress(progress, label, len(chunks)) as bar:
        for chunk in chunks:
            began = time.monotonic()
            items = store.call(request_bars(store.ib, store.lib, contract, chunk.query, limiter,
                                            timeout=cfg.request_timeout, retries=retries,
                                            backoff=cfg.pacing_backoff))
            frame = bars_frame(items, request.size, chunk)
            series.merge(frame, chunk.sessions)
            got = set(series.sessions_of(frame)) if len(frame) else set()
            for day in chunk.sessions:
                if day not in got:
                    why = "the gateway returned no bars for this session"
                    series.mark_gap(day, why)
                    result.gaps.append((day, why))
            result.chunks_done += 1
            result.bars_received += len(frame)
            per_request.append(time.monotonic() - began)
            result.chunk_seconds += per_request[-1]
            if time.monotonic() - last_save >= flush_seconds:
                series.save()
                last_save = time.monotonic()
            remaining = len(chunks) - result.chunks_done
            typical = sorted(per_request)[len(per_request) // 2]
            bar.advance(max(limiter.eta(remaining), typical * remaining), chunk.label())
            if on_chunk is not None:
                on_chunk(chunk, len(frame))


def bars_frame(items: list, size: BarSize, chunk: Chunk) -> pd.DataFrame:
    """The library's BarData of one chunk as a bar table, only the chunk's sessions."""
    bars = [to_bar(item, size) for item in items]
    wanted = set(chunk.sessions)
    bars = [b for b in bars if b.time.date() in wanted]
    index = pd.DatetimeIndex([b.time for b in bars], name="time")
    if len(index):
        index = index.tz_convert(NEW_YORK)
    frame = pd.DataFrame({"open": [b.open for b in bars], "high": [b.high for b in bars],
                          "low": [b.low for b in bars], "close": [b.close for b in bars],
                          "volume": [b.volume for b in bars]}, index=index, dtype="float64")
    return frame[~frame.index.duplicated(keep="last")].sort_index()


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class _Progress:
    """A rich progress bar (chunks done, the time the pacing rules still need); silent when disabled."""

    def __init__(self, enabled: bool, label: str, total: int) -> None:
        self.enabled, self.label, self.total = enabled and total > 0, label, total
        self._progress = None

    def __enter__(self) -> "_Progress":
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn(f"[bold]fetch {self.label}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("chunks"), TimeElapsedColumn(), TextColumn("eta {task.fields[eta]}"),
                                      TextColumn("[dim]{task.fields[last]}"), transient=False)
            self._progress.__enter__()
            self._task = self._progress.add_task("chunks", total=self.total, eta="?", last="")
        return self

    def advance(self, eta_seconds: float, last: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, eta=_duration(eta_seconds), last=last)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
