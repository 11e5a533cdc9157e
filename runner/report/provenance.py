"""What a run's figures rest on: the data labels (REAL, SYNTHETIC, PROXY, ...) and the reproducibility record.

Labels, per data source:

* ``SYNTHETIC``: generated bars (``sample:spy_1min_synthetic``); proves nothing about markets;
* ``PROXY``: a derived series standing in for a traded one (``sample:aaa_bond_proxy``);
* ``REAL``: the embedded real index bars (``sample:sp500``, ``sample:nasdaq``);
* ``USER_FILE``: a file the user gave (``data: {path: ...}`` or ``--data``);
* ``IB_CACHE``: bars fetched from IB into the cache (``flowbot fetch``).

A playbook's label is its instrument's; ``+PROXY`` is added when one of its
extra feeds (e.g. the bond leg of december_fade's filter) is a proxy.
"""
from __future__ import annotations

import hashlib
import shlex
import subprocess
import sys
import threading
from importlib import metadata, resources
from pathlib import Path

import numpy as np
import pandas as pd

from runner.config import DataSource, RunConfig, resolved_yaml
from runner.data.bars import extra_feed_name
from runner.data.checksum import file_sha256

SYNTHETIC, PROXY, REAL, USER_FILE, IB_CACHE = "SYNTHETIC", "PROXY", "REAL", "USER_FILE", "IB_CACHE"
_SAMPLE_FILES = {"sp500": ["sp500_daily.csv.gz"], "nasdaq": ["nasdaq_daily.csv.gz"],
                 "aaa_bond_proxy": ["aaa_yield_monthly.csv.gz", "sp500_daily.csv.gz"]}


def source_label(source: DataSource) -> str:
    from runner.data import sample_registry
    from runner.data.sample import BOND_PROXY

    if source.sample is not None:
        if source.sample in sample_registry.GENERATED:
            return SYNTHETIC
        return PROXY if source.sample == BOND_PROXY else REAL
    return IB_CACHE if source.cache is not None else USER_FILE


def playbook_label(strategy) -> str:
    """SYNTHETIC, REAL, USER_FILE or IB_CACHE, with +PROXY when an extra feed is a proxy."""
    label = source_label(strategy.data)
    if any(source_label(s) == PROXY for s in strategy.feeds.values()) and label != PROXY:
        label += "+PROXY"
    return label


def is_synthetic(label: str) -> bool:
    return SYNTHETIC in label


def reproducibility(cfg: RunConfig, bars: dict[str, pd.DataFrame], engine: str,
                    known: dict[str, str] | None = None, config_yaml: str | None = None,
                    bars_hashed: "BarsHashing | None" = None) -> dict:
    """flowbot's version, the git commit (if the code runs from a git checkout), the command line,
    the resolved config's SHA-256, and per data source its file's SHA-256 and the bars' checksum.

    ``known``: file path -> SHA-256 already computed for these bars (a sweep's, when it loaded them), so
    that a file is not read a second time. ``config_yaml``: ``resolved_yaml(cfg)``, when the caller has it.
    ``bars_hashed``: the bars' checksums worked out under the run (:class:`BarsHashing`), joined here."""
    config_text = resolved_yaml(cfg) if config_yaml is None else config_yaml
    return {
        "flowbot_version": _version(),
        "git_commit": _git_commit(),
        "command_line": shlex.join(sys.argv),
        "config_sha256": hashlib.sha256(config_text.encode()).hexdigest(),
        "engine": engine,
        "data_files": data_files(cfg, bars, known, bars_hashed.digests() if bars_hashed is not None else None),
    }


def data_files(cfg: RunConfig, bars: dict[str, pd.DataFrame], known: dict[str, str] | None = None,
               bars_known: dict[int, tuple[pd.DataFrame, str]] | None = None) -> list[dict]:
    rows = []
    checksums: dict[str, str | None] = dict(known or {})   # a file several playbooks read is read once
    for strategy in cfg.active_strategies():
        sources = [("instrument", strategy.symbol, strategy.data),
                   *((role, extra_feed_name(strategy.symbol, role), src) for role, src in strategy.feeds.items())]
        for role, feed, source in sources:
            frame = bars.get(feed)
            rows.append({
                "playbook": strategy.display_name, "role": role, "source": source.describe(),
                "label": source_label(source),
                "files": [{"path": str(p), "sha256": _file_sha256(p, checksums)} for p in _files_of(source, cfg)],
                "bars": 0 if frame is None else int(len(frame)),
                "bars_sha256": None if frame is None else _known_bars_sha256(frame, bars_known or {}),
            })
    return rows


def _files_of(source: DataSource, cfg: RunConfig) -> list[Path]:
    if source.path is not None:
        return [Path(source.path).expanduser()]
    if source.sample is not None:
        folder = resources.files("runner") / "sample_data"
        return [Path(str(folder / name)) for name in _SAMPLE_FILES.get(source.sample, [])]
    if source.cache is not None:
        folder = Path(cfg.data.cache_folder) / source.cache
        return sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []
    return []


def _file_sha256(path: Path, checksums: dict[str, str | None]) -> str | None:
    if str(path) not in checksums:
        try:
            checksums[str(path)] = file_sha256(path)
        except OSError:
            checksums[str(path)] = None
    return checksums[str(path)]


class BarsHashing(threading.Thread):
    """The bars' checksums (``_bars_sha256`` of each table) worked out in a thread while the run goes on:
    hashing releases the GIL, so the 20-year file's ~0.13 s of SHA-256 runs on another core under the
    engine instead of after it (the run reads its bars, never writes them). ``digests()`` joins the
    thread: the caller calls it (through ``reproducibility``) before anything forks, and on its way out."""

    def __init__(self, bars: dict[str, pd.DataFrame]):
        super().__init__(name="bars-sha256", daemon=True)
        self._tables = list(bars.values())
        self._digests: dict[int, tuple[pd.DataFrame, str]] = {}

    def run(self) -> None:
        for frame in self._tables:   # each table held with its digest: its id stays its own
            try:
                self._digests[id(frame)] = (frame, _bars_sha256(frame))
            except Exception:  # noqa: BLE001 - left out: data_files hashes it there, and says what fails
                continue

    def digests(self) -> dict[int, tuple[pd.DataFrame, str]]:
        """id of a table -> (the table, its checksum), for the tables hashed (any it failed on are left out)."""
        if self.ident is not None:
            self.join()
        return self._digests


def _known_bars_sha256(frame: pd.DataFrame, known: dict[int, tuple[pd.DataFrame, str]]) -> str:
    hit = known.get(id(frame))
    return hit[1] if hit is not None and hit[0] is frame else _bars_sha256(frame)


def _bars_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of the bars as the engine got them (time in ns UTC, then the columns as float64)."""
    # The arrays' own bytes handed to the hash (what tobytes() would copy): hashing them releases the GIL.
    digest = hashlib.sha256(np.ascontiguousarray(frame.index.tz_convert("UTC").as_unit("ns").asi8))
    for column in sorted(frame.columns):
        digest.update(column.encode())
        digest.update(np.ascontiguousarray(frame[column].to_numpy(dtype="float64")))
    return digest.hexdigest()


def _version() -> str | None:
    try:
        return metadata.version("flowbot")
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
