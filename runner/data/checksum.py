"""The content checksum of a data file: SHA-256 of its bytes.

Recorded with every run (``reproducibility.data_files``) and in a sweep's
``optimize.json``, where ``--resume`` compares it to refuse changed data.
SHA-256 stays: on CPUs with SHA extensions it is as fast as any stdlib hash
(blake2b, sha1, md5 are not faster here, see the commit that chose it), and
the recorded checksums of earlier runs remain comparable.

A big file's checksum is started in a background thread as soon as the file
is read (:func:`prefetch_sha256`, from ``load_source``): hashing releases the
GIL, so the 2-million-row file's 0.3 s of SHA-256 runs on another core under
the backtest instead of after it. :func:`file_sha256` takes that digest only
if the file's size, modification time and inode are those it had before and
after it was hashed, and still has now; else it hashes the file again.
"""
from __future__ import annotations

import hashlib
import os
import stat as stat_kind
import threading
from pathlib import Path

#: Files smaller than this are hashed when asked (a thread would cost more than it saves).
PREFETCH_BYTES = 1 << 20

_lock = threading.Lock()
_prefetched: dict[str, "_Prefetch"] = {}


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of the file's bytes (OSError if it cannot be read)."""
    with _lock:
        job = _prefetched.pop(_key(path), None)
    if job is not None:
        digest = job.result()
        if digest is not None and _stat(path) == job.stat:
            return digest
    return _hash(path)


def prefetch_sha256(path: str | Path) -> None:
    """Start hashing ``path`` in the background for a later :func:`file_sha256` (big regular files only)."""
    try:
        stat = _stat(path)
    except OSError:
        return   # file_sha256 will say
    if stat is None or stat[0] < PREFETCH_BYTES:
        return
    with _lock:
        if _key(path) in _prefetched:
            return
        job = _prefetched[_key(path)] = _Prefetch(path, stat)
    job.start()


class _Prefetch(threading.Thread):
    def __init__(self, path: str | Path, stat: tuple):
        super().__init__(name="sha256-prefetch", daemon=True)
        self.path, self.stat = path, stat
        self.digest: str | None = None

    def run(self) -> None:
        try:
            digest = _hash(self.path)
            if _stat(self.path) == self.stat:   # unchanged while it was read
                self.digest = digest
        except OSError:
            pass   # file_sha256 hashes it again, and raises

    def result(self) -> str | None:
        self.join()
        return self.digest


def _hash(path: str | Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _key(path: str | Path) -> str:
    return os.path.abspath(os.fspath(path))


def _stat(path: str | Path) -> tuple | None:
    """(size, modification time in ns, inode, device) of a regular file, None for anything else."""
    st = os.stat(path)
    if not stat_kind.S_ISREG(st.st_mode):
        return None
    return st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev
