"""The reproducibility record's file checksums: SHA-256 of each file's bytes, each file read once per run."""
from __future__ import annotations

import hashlib
from pathlib import Path

from runner.config import validate_config
from runner.data import checksum
from runner.report import provenance


def test_a_file_several_playbooks_read_is_hashed_once(tmp_path, monkeypatch):
    data = tmp_path / "spx.csv"
    data.write_text("Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,100\n")
    cfg = validate_config({"strategies": [
        {"name": "december_fade", "symbol": "SPX", "data": str(data), "feeds": {"bonds": str(data)}},
        {"name": "january_snapback", "symbol": "SPX", "data": str(data)},
    ]}, "test")
    read = []

    def counted(path):
        read.append(Path(path))
        return checksum.file_sha256(path)

    monkeypatch.setattr(provenance, "file_sha256", counted)
    rows = provenance.data_files(cfg, {})
    assert read == [data]
    sha = hashlib.sha256(data.read_bytes()).hexdigest()
    assert [f["sha256"] for row in rows for f in row["files"]] == [sha, sha, sha]
    assert provenance.data_files(cfg, {}, known={str(data): "recorded"})[0]["files"][0]["sha256"] == "recorded"
    assert read == [data]   # a checksum the caller knows is not computed again


def test_a_file_that_cannot_be_read_has_no_checksum(tmp_path):
    cfg = validate_config({"strategies": [{"name": "december_fade", "symbol": "SPX",
                                           "data": str(tmp_path / "gone.csv")}]}, "test")
    assert provenance.data_files(cfg, {})[0]["files"] == [{"path": str(tmp_path / "gone.csv"), "sha256": None}]
