"""Hand big freed arrays back to the system at once (glibc): a 2-million-row run's temporaries stay temporary.

glibc's malloc serves a block above its mmap threshold (128 KB at first) from a
fresh mapping that it unmaps on free; but each time such a block is freed it
raises the threshold to the block's size (up to 32 MB), so the next 16 MB
column is carved from the heap instead, and the heap keeps the pages after
the array is freed. Loading and checking a 1-minute file makes dozens of
16 MB temporaries: the process kept ~80 MB of them as resident memory that
every later step (feeds, figures) sat on top of. Fixing the threshold keeps
every block of a megabyte or more in its own mapping, returned when freed.
Elsewhere than glibc (macOS, musl) nothing changes.
"""
from __future__ import annotations

import ctypes

#: mallopt's parameter number for the mmap threshold (malloc.h); setting it turns off the dynamic raising.
M_MMAP_THRESHOLD = -3
#: Blocks this large or larger each get their own mapping.
THRESHOLD_BYTES = 1 << 20

_done = False


def return_big_blocks_on_free() -> bool:
    """Set glibc's mmap threshold to a fixed 1 MB (once); False where there is no glibc ``mallopt``."""
    global _done
    if _done:
        return True
    try:
        mallopt = ctypes.CDLL(None).mallopt   # the process's own symbols (glibc's, on Linux): no ldconfig run
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES))
    return _done
