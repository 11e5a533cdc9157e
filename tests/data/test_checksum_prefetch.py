"""A data file's SHA-256 hashed in the background when it is read: the same digest, and never a stale one."""
import hashlib
import os

import pytest

from runner.data import checksum
from runner.data.checksum import file_sha256, prefetch_sha256


@pytest.fixture(autouse=True)
def every_file_prefetched(monkeypatch):
    monkeypatch.setattr(checksum, "PREFETCH_BYTES", 0)
    monkeypatch.setattr(checksum, "_prefetched", {})


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def finished(path) -> None:
    checksum._prefetched[checksum._key(path)].result()


def test_prefetched_digest_is_the_files(tmp_path):
    path = tmp_path / "bars.csv"
    data = os.urandom(3 << 20)
    path.write_bytes(data)
    prefetch_sha256(path)
    assert checksum._key(path) in checksum._prefetched
    assert file_sha256(path) == sha(data)
    assert checksum._key(path) not in checksum._prefetched   # taken once; asked again, hashed again
    assert file_sha256(path) == sha(data)


@pytest.mark.parametrize("same_size", [True, False])
def test_a_file_changed_after_its_prefetch_is_hashed_again(tmp_path, same_size):
    path = tmp_path / "bars.csv"
    path.write_bytes(b"a" * 1000)
    prefetch_sha256(path)
    finished(path)
    changed = b"b" * (1000 if same_size else 1001)
    path.write_bytes(changed)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))   # a later time, whatever the clock
    assert file_sha256(path) == sha(changed)


def test_a_replaced_file_is_hashed_again(tmp_path):
    path, other = tmp_path / "bars.csv", tmp_path / "new.csv"
    path.write_bytes(b"a" * 1000)
    prefetch_sha256(path)
    finished(path)
    other.write_bytes(b"c" * 1000)
    os.utime(other, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))   # same size and time, other inode
    os.replace(other, path)
    assert file_sha256(path) == sha(b"c" * 1000)


def test_a_missing_file_still_raises(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_bytes(b"a" * 10)
    prefetch_sha256(path)
    finished(path)
    path.unlink()
    with pytest.raises(OSError):
        file_sha256(path)
    prefetch_sha256(tmp_path / "absent.csv")   # nothing to hash: no error until asked
    with pytest.raises(OSError):
        file_sha256(tmp_path / "absent.csv")


def test_small_files_are_hashed_when_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(checksum, "PREFETCH_BYTES", 1 << 20)
    path = tmp_path / "bars.csv"
    path.write_bytes(b"a" * 100)
    prefetch_sha256(path)
    assert not checksum._prefetched
    assert file_sha256(path) == sha(b"a" * 100)


def test_loading_a_file_starts_its_checksum(tmp_path):
    from runner.config import DataSource
    from runner.data.load import load_source

    path = tmp_path / "daily.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n2019-05-29,10,11,9,10.5,100\n2019-05-30,10,11,9,10.5,100\n")
    load_source(DataSource(path=str(path)))
    assert checksum._key(path) in checksum._prefetched
    assert file_sha256(path) == sha(path.read_bytes())
