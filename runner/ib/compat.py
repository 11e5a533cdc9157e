"""The one place that knows ib_insync and ib_async apart.

Everything else in ``runner/ib`` goes through :func:`load_library` and the
helpers here, so the two libraries' differences stay in one file:

- ``qualifyContracts`` returns ``[]`` (ib_insync) or ``[None]`` (ib_async) for
  an unknown contract: :func:`qualify` returns the contract or ``None``.
- error 202 (order cancelled) is a warning in ib_insync and an error in
  ib_async; ib_async reports ``ValidationError`` as an order status for
  warnings on a live order: :func:`order_status` and :func:`classify_error`
  give one meaning to both.
- a duplicate client id (326) makes both wait for their connect timeout:
  :func:`connect` fails fast instead.
"""
from __future__ import annotations

import asyncio
import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from runner.errors import ConfigError, GatewayError

LIBRARIES = ("ib_async", "ib_insync")

#: Codes that inform and never fail anything (market data farm messages 21xx,
#: connectivity 1100-1102 handled by the store, 202 = cancel confirmation).
INFO_CODES = frozenset({165, 202, 399, 404, 434, 492, 10167, 10197})
CONNECTIVITY_CODES = frozenset({1100, 1101, 1102, 2110})
PACING_CODES = frozenset({162, 420})
CLIENT_ID_IN_USE = 326


@dataclass(frozen=True)
class IBLibrary:
    """The chosen IB client library and the classes flowbot uses from it."""

    name: str
    module: ModuleType

    def __getattr__(self, item: str) -> Any:
        return getattr(self.module, item)

    @property
    def version(self) -> str:
        return getattr(self.module, "__version__", "?")


def resolve_library_name(choice: str) -> str:
    """Map ``auto | ib_insync | ib_async`` to an installed library name.

    ``auto`` prefers ib_async (maintained) and falls back to ib_insync.
    Raises ConfigError when the requested library is not installed.
    """
    if choice == "auto":
        for name in LIBRARIES:
            if importlib.util.find_spec(name) is not None:
                return name
        raise ConfigError("ib.library: neither ib_async nor ib_insync is installed (pip install ib_async)")
    if choice not in LIBRARIES:
        raise ConfigError(f"ib.library: must be one of auto, ib_insync, ib_async (got {choice!r})")
    if importlib.util.find_spec(choice) is None:
        raise ConfigError(f"ib.library: {choice} is not installed (pip install {choice})")
    return choice


def load_library(choice: str = "auto") -> IBLibrary:
    """Import and return the IB client library named by ``ib.library``."""
    name = resolve_library_name(choice)
    return IBLibrary(name=name, module=importlib.import_module(name))


async def qualify(ib: Any, contract: Any) -> Any | None:
    """Qualify one contract in place; return it, or ``None`` when unknown or ambiguous."""
    try:
        result = await ib.qualifyContractsAsync(contract)
    except Exception as exc:
        # ib_async 2.x raises RequestError(code=200) where ib_insync returns [].
        if getattr(exc, "code", None) == 200:
            return None
        raise
    result = [c for c in result if c is not None]
    if not result or not getattr(result[0], "conId", 0):
        return None
    return result[0]


def order_status(status: str) -> str | None:
    """Normalise an IB order status; ``None`` means "no change in state".

    ib_async's ``ValidationError`` marks a warning on a still-live order.
    """
    if status in ("ValidationError", ""):
        return None
    return status


def classify_error(code: int) -> str:
    """Say what an error code means to flowbot.

    Returns one of ``info``, ``connectivity``, ``pacing``, ``client_id``,
    ``error``. Identical for both libraries whatever they log.
    """
    if code in CONNECTIVITY_CODES:
        return "connectivity"
    if code in PACING_CODES:
        return "pacing"
    if code == CLIENT_ID_IN_USE:
        return "client_id"
    if code in INFO_CODES or 2100 <= code < 2200:
        return "info"
    return "error"


def disconnect(ib: Any) -> None:
    """Disconnect whatever state the handshake reached (``IB.disconnect`` fails on a half-open client)."""
    try:
        ib.disconnect()
    except ConnectionError:
        ib.client.disconnect()


async def connect(ib: Any, host: str, port: int, client_id: int, timeout: float) -> None:
    """Connect and synchronise, failing fast with GatewayError.

    Unreachable host/port, a handshake that times out and a duplicate client
    id (326, on which both libraries would wait for their whole timeout) all
    become GatewayError naming host and port.
    """
    where = f"{host}:{port}"
    refused = asyncio.get_running_loop().create_future()

    def on_error(reqId, errorCode, errorString, contract=None):
        if errorCode == CLIENT_ID_IN_USE and not refused.done():
            refused.set_result(errorString)

    ib.errorEvent += on_error
    task = asyncio.ensure_future(ib.connectAsync(host, port, clientId=client_id, timeout=timeout))
    try:
        done, _ = await asyncio.wait({task, refused}, timeout=timeout + 1.0, return_when=asyncio.FIRST_COMPLETED)
        if task in done and task.exception() is not None and not refused.done():
            await asyncio.sleep(0.05)   # the 326 error and the closed socket arrive together; prefer the 326
        if refused.done():
            task.cancel()
            disconnect(ib)
            raise GatewayError(
                f"IB gateway at {where} refused client id {client_id}: it is already in use by another "
                f"API client (error 326). Stop the other client or set ib.client_id to a different number."
            )
        if task not in done:
            task.cancel()
            disconnect(ib)
            raise GatewayError(f"IB gateway at {where} did not complete the API handshake within {timeout:g} s")
        try:
            task.result()
        except TimeoutError:
            raise GatewayError(f"IB gateway at {where} did not complete the API handshake within {timeout:g} s") from None
        except ConnectionRefusedError:
            raise GatewayError(
                f"cannot reach IB gateway at {where}: connection refused. Is IB Gateway running with the "
                f"API enabled on this port (Configure > Settings > API)?"
            ) from None
        except ConnectionError as exc:
            raise GatewayError(f"IB gateway at {where} closed the connection during the handshake: {exc}") from None
        except OSError as exc:
            raise GatewayError(f"cannot reach IB gateway at {where}: {exc.strerror or exc}") from None
    finally:
        ib.errorEvent -= on_error
