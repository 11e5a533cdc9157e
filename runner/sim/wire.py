"""TWS API socket framing, as the gateway side speaks it.

Contract:

* The client opens with the 4 bytes ``API\\0`` followed by one framed message
  holding a version range such as ``v157..176`` (optionally followed by a space
  and connect options).
* Every message after that is a 4-byte big-endian length followed by that many
  bytes: fields, each terminated by a NUL byte.
* Fields are text. Integers never carry a ``.0``; an unset double is written
  as ``1.7976931348623157e308``; booleans are ``1``/``0``; ``None`` is empty.
"""
from __future__ import annotations

import asyncio
import re
import struct
import sys
from typing import Iterable

UNSET_DOUBLE = sys.float_info.max
UNSET_INTEGER = 2**31 - 1
HANDSHAKE_PREFIX = b"API\0"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024

_VERSION_RANGE = re.compile(rb"v(\d+)(?:\.\.(\d+))?")


class ProtocolError(Exception):
    """The peer sent something that is not the TWS API protocol."""


def format_field(value: object) -> str:
    """One field as text, by the rules in the module docstring."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value == UNSET_DOUBLE:
            return "1.7976931348623157e308"
        return repr(value)
    return str(value)


def encode_message(fields: Iterable[object]) -> bytes:
    """Frame one message: length prefix plus NUL-terminated fields."""
    payload = "".join(format_field(f) + "\0" for f in fields).encode()
    return struct.pack(">I", len(payload)) + payload


def decode_payload(payload: bytes) -> list[str]:
    """Split a message body into its fields (the trailing NUL ends the last one)."""
    text = payload.decode(errors="backslashreplace")
    fields = text.split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    """Read one length-prefixed frame; raises ``asyncio.IncompleteReadError`` at EOF."""
    header = await reader.readexactly(4)
    (length,) = struct.unpack(">I", header)
    if length > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {length} bytes is too large")
    return await reader.readexactly(length)


async def read_handshake(reader: asyncio.StreamReader) -> tuple[int, int]:
    """Read ``API\\0`` and the version range; return (min_version, max_version)."""
    prefix = await reader.readexactly(len(HANDSHAKE_PREFIX))
    if prefix != HANDSHAKE_PREFIX:
        raise ProtocolError(f"expected the API handshake, got {prefix!r}")
    body = await read_frame(reader)
    match = _VERSION_RANGE.match(body)
    if not match:
        raise ProtocolError(f"unreadable version range {body!r}")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    return low, high
