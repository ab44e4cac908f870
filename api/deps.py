"""What every route shares: the runtime and runner, the caller's key, starting a run, streaming one."""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from agent.runtime import Runtime
from agent.service.queue import InFlightLimit
from agent.service.runner import Runner
from agent.webhooks.target import Refused, allow_list, resolve
from api import sse
from api.auth import require_key
from api.errors import ApiError
from api.schemas import ErrorBody
from api.streams import Slot, held_while
from api.views import run_out

Owner = Annotated[str, Depends(require_key)]
# 413 and 415 come from the request gate (api/limits.py) on any route that takes a body.
ERRORS = {401: {"model": ErrorBody}, 404: {"model": ErrorBody}, 413: {"model": ErrorBody},
          415: {"model": ErrorBody}, 422: {"model": ErrorBody}}
# One server-sent event: `event` is its type, `id` the replay position, `data` a JSON object.
_SSE_EVENT = {"type": "object", "required": ["data"], "properties": {
    "event": {"type": "string"}, "id": {"type": "string", "pattern": "^[0-9]+$"},
    "data": {"type": "string", "contentMediaType": "application/json"}}}
SSE_RESPONSE = {200: {"content": {"text/event-stream": {"schema": _SSE_EVENT}},
                      "description": "Server-sent events; the last one is succeeded, failed, cancelled or declined."}}


def runtime(request: Request) -> Runtime:
    return request.app.state.rt


def runner(request: Request) -> Runner:
    return request.app.state.runner


async def start_run(request: Request, owner: str, create: Callable[[], str]) -> str:
    """Create the run within the key's in-flight limit (in a thread: it touches the database), with its
    `queued` event, and wake a worker."""
    await check_in_flight(request, owner)
    limit = runtime(request).settings.server.max_in_flight_per_key
    try:
        run_id = await run_in_threadpool(runner(request).admit, owner, limit, create)
    except InFlightLimit as exc:
        raise _limited(exc) from None
    runner(request).submit(run_id, owner)
    return run_id


async def check_in_flight(request: Request, owner: str) -> None:
    """429 now when the key is at its limit (before expensive work such as receiving uploads)."""
    limit = runtime(request).settings.server.max_in_flight_per_key
    active = await run_in_threadpool(runner(request).in_flight, owner)
    if active >= limit:
        raise _limited(InFlightLimit(active, limit))


async def checked_webhook(request: Request, url: str | None) -> str | None:
    """The request's webhook_url when Storyloom may call it (a DNS lookup, in a thread), else 422 naming it."""
    if url is None:
        return None
    settings = runtime(request).settings.webhooks
    if settings.secret is None:
        raise ApiError(422, "invalid_request", "webhook_url: this server signs no webhooks "
                       "(STORYLOOM_WEBHOOKS__SECRET is not set)")
    try:
        await run_in_threadpool(resolve, url, allow_list(settings.allow))
    except Refused as exc:
        raise ApiError(422, "invalid_request", f"webhook_url: {exc}") from None
    return url


def _limited(exc: InFlightLimit) -> ApiError:
    return ApiError(429, "rate_limited", str(exc), {"Retry-After": "5"})


async def run_json(request: Request, run_id: str, status_code: int = 200, owner: str | None = None) -> JSONResponse:
    """The run as JSON; with `owner`, checked to be that key's first (404 otherwise), in the same thread hop."""
    return JSONResponse(await run_in_threadpool(run_out, runtime(request), run_id, owner), status_code=status_code)


def wants_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


def stream_slot(request: Request, owner: str) -> Slot:
    """One of the key's (and the server's) event-stream slots, or 429: take it before starting work."""
    return request.app.state.streams.take(owner)


def event_stream(request: Request, run_id: str, slot: Slot, after: int = 0) -> StreamingResponse:
    rt = runtime(request)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # proxies must not buffer a live stream
    body = sse.stream(rt, run_id, after, rt.settings.server.sse_keepalive_s, request.app.state.notifier)
    return StreamingResponse(held_while(slot, body), media_type="text/event-stream", headers=headers)
