"""A minimal HTTP/1.1 client on raw asyncio streams, for the load generator.

Why not httpx: on 2 cores the generator shares the CPU with the server it measures, and httpx's async
client spends several times more CPU per request than this one (connection pool, header models,
decoders). This speaks exactly what the API answers: keep-alive, Content-Length or chunked bodies,
and server-sent events. Each `Connection` is one socket used by one simulated client at a time.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""

    def json(self):
        return json.loads(self.body)


@dataclass
class Connection:
    """One keep-alive connection to host:port; reopened when the server closed it."""

    host: str
    port: int
    headers: dict[str, str] = field(default_factory=dict)
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes | None = None,
                      headers: dict[str, str] | None = None) -> Response:
        """Send one request and read the whole response."""
        reader = await self._send(method, path, body, headers)
        status, head = await _read_head(reader)
        data = await _read_body(reader, head)
        if head.get("connection", "").lower() == "close":
            self.close()
        return Response(status, head, data)

    async def post_json(self, path: str, payload, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload).encode()
        return await self.request("POST", path, body, {"Content-Type": "application/json", **(headers or {})})

    async def events(self, path: str, headers: dict[str, str] | None = None) -> AsyncIterator[dict | Response]:
        """GET a text/event-stream: yields the Response head first, then each event as
        {"id", "event", "data"}. Stopping early closes the connection (the stream cannot be reused)."""
        reader = await self._send("GET", path, None, {"Accept": "text/event-stream", **(headers or {})})
        status, head = await _read_head(reader)
        if status != 200 or "chunked" not in head.get("transfer-encoding", ""):
            yield Response(status, head, await _read_body(reader, head))
            return
        yield Response(status, head)
        finished = False
        try:
            buffer = b""
            async for chunk in _chunks(reader):
                buffer += chunk
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    event = _parse_event(block)
                    if event:
                        yield event
            finished = True
        finally:
            if not finished:
                self.close()

    async def _send(self, method: str, path: str, body: bytes | None,
                    headers: dict[str, str] | None) -> asyncio.StreamReader:
        if self._writer is not None and (self._writer.is_closing() or self._reader.at_eof()):
            self.close()  # the server closed an idle keep-alive connection (uvicorn: after 5 s)
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in {**self.headers, **(headers or {})}.items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        try:
            await self._writer.drain()
        except ConnectionError:
            self.close()
            raise
        return self._reader

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    line = await reader.readline()
    if not line:
        raise ConnectionError("the server closed the connection")
    parts = line.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ConnectionError(f"not an HTTP status line: {line[:60]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            return status, headers
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    if "chunked" in headers.get("transfer-encoding", ""):
        return b"".join([chunk async for chunk in _chunks(reader)])
    return await reader.read()


async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return
        data = await reader.readexactly(size + 2)
        yield data[:-2]


def _parse_event(block: bytes) -> dict | None:
    event: dict[str, str] = {}
    for raw in block.decode("utf-8", "replace").splitlines():
        if raw.startswith(":") or ":" not in raw:
            continue
        name, _, value = raw.partition(":")
        event[name] = value[1:] if value.startswith(" ") else value
    if "data" not in event:
        return None
    return {"id": event.get("id"), "event": event.get("event", "message"), "data": event["data"]}
