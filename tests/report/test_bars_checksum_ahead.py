"""The record's bar checksums: hashed in a thread under the run, the same digests, no thread left after it."""
import hashlib
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from runner.backtest.run import run_backtest
from runner.config import load_config
from runner.data.bars import extra_feed_name
from runner.report import provenance

ROOT = Path(__file__).resolve().parents[2]


def copied_digest(frame: pd.DataFrame) -> str:
    """The checksum as it was computed before: each array copied out with tobytes()."""
    digest = hashlib.sha256(frame.index.tz_convert("UTC").as_unit("ns").asi8.tobytes())
    for column in sorted(frame.columns):
        digest.update(column.encode())
        digest.update(frame[column].to_numpy(dtype="float64").tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("unit", ["ns", "us"])
def test_the_digest_of_the_arrays_is_the_digest_of_their_copies(unit):
    index = pd.date_range("2019-03-08 09:30", periods=5000, freq="min", tz="America/New_York", unit=unit)
    block = np.asfortranarray(np.random.default_rng(2).random((5000, 5)) + 1.0)   # columns may be strided views
    frame = pd.DataFrame(block, index=index, columns=["open", "high", "low", "close", "volume"])
    frame["volume"] = frame["volume"].astype("float32")   # converted to float64 for the hash
    assert provenance._bars_sha256(frame) == copied_digest(frame)


def test_the_run_hashes_its_bars_in_a_thread_and_joins_it(monkeypatch):
    cfg = load_config(ROOT / "config" / "backtest.yaml")
    where = []
    real = provenance._bars_sha256

    def recorded(frame):
        where.append(threading.current_thread().name)
        return real(frame)

    monkeypatch.setattr(provenance, "_bars_sha256", recorded)
    result = run_backtest(cfg)
    assert where and set(where) == {"bars-sha256"}   # none hashed again after the run
    assert not [t for t in threading.enumerate() if t.name == "bars-sha256"]
    symbols = {s.display_name: s.symbol for s in cfg.active_strategies()}
    rows = result.metrics["reproducibility"]["data_files"]
    for row in rows:
        symbol = symbols[row["playbook"]]
        feed = symbol if row["role"] == "instrument" else extra_feed_name(symbol, row["role"])
        assert row["bars_sha256"] == copied_digest(result.bars[feed])
    assert len(rows) >= 3


def test_a_table_the_thread_did_not_hash_is_hashed_when_asked(monkeypatch):
    index = pd.date_range("2020-01-02", periods=3, freq="D", tz="America/New_York")
    hashed = pd.DataFrame({"close": [1.0, 2.0, 3.0]}, index=index)
    other = hashed.copy()   # equal, another object: its digest is not taken from the thread's
    hashing = provenance.BarsHashing({"a": hashed})
    hashing.start()
    known = hashing.digests()
    assert provenance._known_bars_sha256(hashed, known) == copied_digest(hashed)
    monkeypatch.setattr(provenance, "_bars_sha256", lambda frame: "computed here")
    assert provenance._known_bars_sha256(hashed, known) == copied_digest(hashed)
    assert provenance._known_bars_sha256(other, known) == "computed here"
    assert provenance.BarsHashing({}).digests() == {}   # never started: nothing to join
