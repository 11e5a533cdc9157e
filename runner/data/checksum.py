"""The content checksum of a data file: SHA-256 of its bytes.

Recorded with every run (``reproducibility.data_files``) and in a sweep's
``optimize.json``, where ``--resume`` compares it to refuse changed data.
SHA-256 stays: on CPUs with SHA extensions it is as fast as any stdlib hash
(blake2b, sha1, md5 are not faster here, see the commit that chose it), and
the recorded checksums of earlier runs remain comparable.
"""
from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of the file's bytes (OSError if it cannot be read)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
