"""One client connection: handshake, startApi, then requests in and messages out.

Contract: ``serve()`` runs until the peer closes or the server drops it.
The handshake answer is one framed message of exactly two fields (server
version, connection time). On startApi a client id already connected (or
reserved by a fault) gets error 326 and the socket is closed; otherwise the
session sends nextValidId, managedAccounts, the farm notices 2104/2106/2158
and (like a real gateway) the client's open orders. Every message in and out
is logged at debug level with the account id masked.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from loguru import logger

from . import layouts, statements
from .faults import CONNECT_NOTICES, standard_message
from .requests import START_API
from .variations import FARM_NOTICES
from .wire import ProtocolError, decode_payload, encode_message, read_frame, read_handshake

from .gateway_state import GatewayState

_DRAIN_ABOVE = 256 * 1024


class ClientSession:
    def __init__(self, server: GatewayState, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 number: int):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.number = number
        self.client_id: int | None = None
        self.realtime: dict[int, str] = {}             # reqId -> symbol
        self.account_updates = False
        self.positions = False
        self.account_multi: set[int] = set()
        self.closed = False

    @property
    def label(self) -> str:
        return f"sim[#{self.number} client {self.client_id}]"

    async def serve(self) -> None:
        try:
            low, high = await read_handshake(self.reader)
            if not low <= layouts.SERVER_VERSION <= high:
                logger.warning(f"{self.label}: client versions v{low}..{high} exclude {layouts.SERVER_VERSION}")
                return
            now = self.server.now()
            self.send([layouts.SERVER_VERSION, now.strftime("%Y%m%d %H:%M:%S ") + (now.tzname() or "EST")])
            while not self.closed:
                fields = decode_payload(await read_frame(self.reader))
                if not fields:
                    continue
                self._log("<<", fields)
                if fields[0] == str(START_API):
                    self._start_api(fields)
                elif self.client_id is not None:
                    self.server.handlers.handle(self, fields)
            await self._drain()
        except (asyncio.IncompleteReadError, ConnectionError, ProtocolError) as exc:
            if not self.closed and not isinstance(exc, asyncio.IncompleteReadError):
                logger.debug(f"{self.label}: {exc!r}")
        finally:
            self.close()
            self.server.forget(self)

    def send(self, fields: list) -> None:
        if self.closed:
            return
        self._log(">>", fields)
        self.writer.write(encode_message(fields))
        if self.writer.transport.get_write_buffer_size() > _DRAIN_ABOVE:
            asyncio.ensure_future(self._drain())

    def send_all(self, messages: list[list]) -> None:
        for fields in messages:
            self.send(fields)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.writer.close()

    async def _drain(self) -> None:
        try:
            await self.writer.drain()
        except ConnectionError:
            self.close()

    def _start_api(self, fields: list[str]) -> None:
        client_id = int(fields[2]) if len(fields) > 2 and fields[2] else 0
        if self.server.client_id_taken(client_id):
            self.client_id = client_id
            self.send(layouts.error(-1, 326, standard_message(326)))
            logger.info(f"{self.label}: refused, client id in use")
            self.close()
            return
        self.client_id = client_id
        exchange = self.server.exchange
        self.send(layouts.next_valid_id(exchange.next_order_id(client_id)))
        self.send(layouts.managed_accounts([self.server.account.account_id]))
        for code in CONNECT_NOTICES:
            self.send(layouts.error(-1, code, standard_message(code)))
        if self.server.variations.happens("farm_notices"):
            for code, text in FARM_NOTICES.items():
                self.send(layouts.error(-1, code, text))
        if self.server.options.push_open_orders:
            self.send_all(statements.open_orders(exchange, client_id))
        logger.info(f"{self.label}: API started")

    def _log(self, direction: str, fields: list) -> None:
        if self.server.options.wire_log:
            text = ",".join(str(f) for f in fields)
            logger.debug(f"{self.label} {direction} {self.server.mask(text)}")
