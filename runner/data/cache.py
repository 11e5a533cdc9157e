"""The local cache of bars fetched from IB: one Parquet dataset per instrument and bar size.

Layout under the cache folder (default ``logs/cache``)::

    SPY/1min.parquet               bars in the run's bar schema (runner.data.bars)
    SPY/1min.manifest.json         which sessions are complete, which the gateway could not fill
    SPY/1min-all-hours.parquet     variants: outside regular hours, adjusted daily bars (1d-adjusted)

Contract:

- the dataset always passes ``validate_bars``: sorted, no duplicate stamps;
- :meth:`CachedSeries.merge` replaces whole sessions: bars of a session
  fetched again replace that session's cached bars, so merging never makes
  duplicates and never leaves half of an old session beside a new one;
- :meth:`CachedSeries.save` writes the data, then the manifest, each
  atomically (temporary file renamed into place): the manifest never names a
  session the data lacks; after a crash between the two, those sessions are
  fetched again and merged;
- a session listed ``complete`` is never requested again; ``gaps`` lists the
  sessions the gateway answered without bars, until a later fetch fills them.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from loguru import logger

from runner.data.bars import NEW_YORK, validate_bars
from runner.data.files import write_parquet_bars
from runner.data.parquet_bars import read_parquet_bars
from runner.errors import DataError
from runner.inputs import inside, safe_name
from runner.ib.bars import BarSize

DEFAULT_FOLDER = Path("logs") / "cache"


def check_cache_folder(folder: Path) -> None:
    """Refuse a cache folder that is a file (or lies under one) before anything is fetched into it."""
    try:
        blocker = next((p for p in [folder, *folder.parents] if p.exists()), None)
    except OSError as exc:
        raise DataError(f"cache folder {folder}: cannot use it ({exc.strerror or exc})") from None
    if blocker is not None and not blocker.is_dir():
        what = "is a file" if blocker == folder else f"is under the file {blocker}"
        raise DataError(f"cache folder {folder}: {what}; expected a folder (--cache DIR or data.cache_folder)")


def dataset_name(size: BarSize, what: str = "TRADES", rth: bool = True) -> str:
    """``1min``, ``5min``, ``1d``; ``-all-hours`` and ``-adjusted`` for the variants."""
    name = str(size)
    if not rth:
        name += "-all-hours"
    if what == "ADJUSTED_LAST":
        name += "-adjusted"
    return name


@dataclass
class CachedSeries:
    """One dataset of the cache and its manifest (see module doc)."""

    folder: Path
    symbol: str
    size: BarSize
    what: str = "TRADES"
    rth: bool = True
    bars: pd.DataFrame | None = None
    complete: set[dt.date] = field(default_factory=set)
    gaps: dict[dt.date, str] = field(default_factory=dict)
    con_id: int | None = None

    @property
    def path(self) -> Path:
        return Path(self.folder) / self.symbol / f"{dataset_name(self.size, self.what, self.rth)}.parquet"

    @property
    def manifest_path(self) -> Path:
        return self.path.with_suffix(".manifest.json")

    @property
    def source(self) -> str:
        return f"cache:{self.symbol} {self.size} ({self.path})"

    # -- reading -------------------------------------------------------------
    @classmethod
    def open(cls, folder: Path | str, symbol: str, size: BarSize, what: str = "TRADES",
             rth: bool = True) -> "CachedSeries":
        """The dataset as it is on disk (empty when nothing was fetched yet).

        The symbol must be one plain path component, and the cache folder a folder
        (or not there yet): both are checked before anything is read or fetched.
        """
        symbol = safe_name(symbol.strip().upper() if isinstance(symbol, str) else symbol, "symbol", DataError)
        series = cls(Path(folder), symbol, size, what, rth)
        check_cache_folder(Path(folder))
        inside(Path(folder), series.path, f"symbol {symbol!r}", DataError)
        if series.manifest_path.exists():
            try:
                manifest = json.loads(series.manifest_path.read_text(encoding="utf-8"))
                series.complete = {dt.date.fromisoformat(d) for d in manifest.get("complete", [])}
                series.gaps = {dt.date.fromisoformat(d): why for d, why in manifest.get("gaps", {}).items()}
                series.con_id = manifest.get("con_id")
            except (ValueError, TypeError, AttributeError) as exc:
                raise DataError(f"{series.manifest_path}: unreadable cache manifest ({exc}); delete it to "
                                f"fetch these sessions again") from None
        if series.path.exists():
            series.bars = read_parquet_bars(series.path)
            present = set(series.sessions_of(series.bars))
            series.complete &= present   # a session the data lacks is fetched again
        return series

    def sessions_of(self, bars: pd.DataFrame) -> pd.Index:
        return pd.Index(bars.index.tz_convert(NEW_YORK).date)

    def load(self) -> pd.DataFrame:
        """The cached bars, for a backtest; DataError with the fetch command when there are none."""
        if self.bars is None or self.bars.empty:
            flag = "" if self.rth else " --all-hours"
            what = "" if self.what == "TRADES" else f" --what {self.what}"
            size = "1 day" if self.size.daily else f"{self.size.minutes} min{'s' if self.size.minutes > 1 else ''}"
            raise DataError(f"{self.path}: no cached {size} bars for {self.symbol}; fetch them first, e.g. "
                            f"flowbot fetch --symbol {self.symbol} --bar-size \"{size}\"{flag}{what} "
                            f"--start 2024-01-02 --end 2024-12-31 --cache {self.folder}")
        if self.gaps:
            days = sorted(self.gaps)
            shown = ", ".join(str(d) for d in days[:5]) + (f" and {len(days) - 5} more" if len(days) > 5 else "")
            logger.warning(f"{self.source}: {len(days)} session(s) the gateway could not fill are missing: {shown}")
        return self.bars

    # -- writing -------------------------------------------------------------
    def merge(self, bars: pd.DataFrame, sessions: list[dt.date] | tuple[dt.date, ...]) -> None:
        """Put ``bars`` (for ``sessions``) into the dataset, replacing those sessions' cached bars."""
        fresh = validate_bars(bars, self.source) if len(bars) else bars
        if self.bars is not None and len(self.bars):
            keep = ~self.sessions_of(self.bars).isin(list(sessions))
            parts = [self.bars[keep], fresh] if len(fresh) else [self.bars[keep]]
            merged = pd.concat(parts).sort_index()
        else:
            merged = fresh.sort_index()
        if len(merged):
            merged = merged[~merged.index.duplicated(keep="last")]
            self.bars = validate_bars(merged, self.source)
        filled = set(self.sessions_of(fresh)) if len(fresh) else set()
        for day in sessions:
            if day in filled:
                self.complete.add(day)
                self.gaps.pop(day, None)

    def mark_gap(self, day: dt.date, why: str) -> None:
        if day not in self.complete:
            self.gaps[day] = why

    def save(self) -> None:
        """Data first, then the manifest, each atomically; nothing at all when there is nothing to record
        (a refused symbol leaves no empty manifest behind)."""
        if self.bars is None and not self.complete and not self.gaps and not self.manifest_path.exists():
            return
        if self.bars is not None and len(self.bars):
            write_parquet_bars(self.bars, self.path)
        manifest = {
            "symbol": self.symbol, "bar_size": str(self.size), "what": self.what, "rth": self.rth,
            "con_id": self.con_id, "bars": 0 if self.bars is None else int(len(self.bars)),
            "first": None if self.bars is None or self.bars.empty else self.bars.index[0].isoformat(),
            "last": None if self.bars is None or self.bars.empty else self.bars.index[-1].isoformat(),
            "complete": sorted(d.isoformat() for d in self.complete),
            "gaps": {d.isoformat(): why for d, why in sorted(self.gaps.items())},
        }
        self.manifest_path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.manifest_path.with_suffix(".json.partial")
        partial.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        os.replace(partial, self.manifest_path)
