"""The request gate: pure ASGI middleware that checks the caller's key and the body's type and size
before a single body byte is read (issue 19: a keyless 150 MB multipart body used to be read, and
spooled, before its 401).

Limits are chosen by route, never by the client's Content-Type: the one upload route takes
multipart/form-data up to `max_upload`; every other route takes application/json up to `max_json`.
A body of another type is 415, a bigger one 413 (by its Content-Length, or while it streams), and one
whose next piece takes over `body_idle_s` to arrive 408 (a slow body no longer holds its connection).
Slow *headers* are the server's to bound: see `api/cli/server.py` and the README's reverse-proxy notes.
"""
from __future__ import annotations

import asyncio
import json

from api.auth import KEY_SCOPE, authenticate
from api.errors import BodyTooLarge, BodyTooSlow

UPLOAD_ROUTES = frozenset({("POST", "/v1/narrations/upload")})
PROTECTED_PREFIX = "/v1/"  # every route under it needs a key; /healthz, /metrics, the Studio page do not


class RequestGate:
    def __init__(self, app, db, max_json: int, max_upload: int, body_idle_s: float = 30.0) -> None:
        self.app, self.db, self.max_json, self.max_upload = app, db, max_json, max_upload
        self.body_idle_s = body_idle_s

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if scope["path"].startswith(PROTECTED_PREFIX):
            key_id = await authenticate(self.db, headers.get(b"authorization", b"").decode("latin-1"))
            if isinstance(key_id, str):
                scope[KEY_SCOPE] = key_id
            else:
                return await refuse(send, 401, "unauthorized", key_id.message, {b"www-authenticate": b"Bearer"})
        upload = (scope["method"], scope["path"].rstrip("/")) in UPLOAD_ROUTES
        limit = self.max_upload if upload else self.max_json
        declared = headers.get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > limit:
            return await refuse(send, 413, "too_large", f"the request body is over {limit} bytes")
        has_body = (declared.isdigit() and int(declared) > 0) or b"transfer-encoding" in headers
        if has_body:
            wanted = _wanted_type(headers.get(b"content-type", b""), upload)
            if wanted:
                return await refuse(send, 415, "unsupported_media_type", f"send the body as {wanted}")
        await self._limited(scope, receive, send, limit, has_body)

    async def _limited(self, scope, receive, send, limit: int, has_body: bool) -> None:
        seen, started, whole = 0, False, not has_body

        async def counted():
            nonlocal seen, whole
            if whole:  # later receives wait for the client to go away (event streams): no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_idle_s)
            except TimeoutError:
                raise BodyTooSlow(f"no part of the request body came for {self.body_idle_s:g} s") from None
            seen += len(message.get("body", b""))
            whole = message["type"] != "http.request" or not message.get("more_body", False)
            if seen > limit:
                raise BodyTooLarge(f"the request body is over {limit} bytes")
            return message

        async def tracked(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge as exc:
            if not started:
                await refuse(send, 413, "too_large", str(exc))
        except BodyTooSlow as exc:
            if not started:
                await refuse(send, 408, "timeout", str(exc))


def _wanted_type(content_type: bytes, upload: bool) -> str | None:
    """None when the body's type suits the route, else the type to send."""
    media = content_type.split(b";")[0].strip().lower()
    if upload:
        return None if media == b"multipart/form-data" else "multipart/form-data"
    json_type = media.startswith(b"application/") and (media == b"application/json" or media.endswith(b"+json"))
    return None if json_type else "application/json"


async def refuse(send, status: int, code: str, message: str, extra: dict[bytes, bytes] | None = None) -> None:
    """An error answer in the API's one shape, sent straight from the middleware."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               *(extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
