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
from importlib import metadata, resources
from pathlib import Path

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
                    known: dict[str, str] | None = None, config_yaml: str | None = None) -> dict:
    """flowbot's version, the git commit (if the code runs from a git checkout), the command line,
    the resolved config's SHA-256, and per data source its file's SHA-256 and the bars' checksum.

    ``known``: file path -> SHA-256 already computed for these bars (a sweep's, when it loaded them), so
    that a file is not read a second time. ``config_yaml``: ``resolved_yaml(cfg)``, when the caller has it."""
    config_text = resolved_yaml(cfg) if config_yaml is None else config_yaml
    return {
        "flowbot_version": _version(),
        "git_commit": _git_commit(),
        "command_line": shlex.join(sys.argv),
        "config_sha256": hashlib.sha256(config_text.encode()).hexdigest(),
        "engine": engine,
        "data_files": data_files(cfg, bars, known),
    }


def data_files(cfg: RunConfig, bars: dict[str, pd.DataFrame], known: dict[str, str] | None = None) -> list[dict]:
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
                "bars_sha256": None if frame is None else _bars_sha256(frame),
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


def _bars_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of the bars as the engine got them (time in ns UTC, then the columns as float64)."""
    digest = hashlib.sha256(frame.index.tz_convert("UTC").as_unit("ns").asi8.tobytes())
    for column in sorted(frame.columns):
        digest.update(column.encode())
        digest.update(frame[column].to_numpy(dtype="float64").tobytes())
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
