"""A small SOCKS5 server on loopback for the transport's tests (RFC 1928: no authentication, CONNECT)."""

from __future__ import annotations

import asyncio
import ipaddress
import struct


class Socks5Server:
    def __init__(self):
        self.connects: list[tuple[str, int]] = []  # where clients asked to go
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    async def __aenter__(self) -> Socks5Server:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            _ver, n = await reader.readexactly(2)
            methods = await reader.readexactly(n)
            if 0 not in methods:
                writer.write(b"\x05\xff")
                return
            writer.write(b"\x05\x00")
            _ver, cmd, _rsv, atyp = await reader.readexactly(4)
            if atyp == 1:
                host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
            elif atyp == 3:
                host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
            else:
                host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
            port = struct.unpack("!H", await reader.readexactly(2))[0]
            self.connects.append((host, port))
            if cmd != 1 or host not in ("127.0.0.1", "localhost"):  # loopback only, CONNECT only
                writer.write(b"\x05\x02\x00\x01" + bytes(6))
                return
            up_reader, up_writer = await asyncio.open_connection(host, port)
            writer.write(b"\x05\x00\x00\x01" + bytes(6))
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
