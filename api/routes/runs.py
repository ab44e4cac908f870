"""Runs: list, inspect, follow live (SSE with replay), cancel."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from agent.service.summary import run_header
from api import sse
from api.deps import ERRORS, SSE_RESPONSE, Owner, event_stream, run_json, runner, runtime, stream_slot
from api.schemas import ErrorBody, RunList, RunOut
from api.views import owned_run
from memory import repo
from memory.tables import RUN_STATUSES

router = APIRouter(prefix="/v1/runs", tags=["runs"], responses=ERRORS)


@router.get("", response_model=RunList, summary="Your runs, newest first")
async def list_runs(request: Request, owner: Owner, limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    status: Annotated[Literal[RUN_STATUSES] | None, Query(description="Only runs in this status")]
                    = None) -> dict:
    def query() -> dict:
        # The header's columns only: loading whole runs decoded (and change-tracked) their plan and info
        # JSON for every row, most of this endpoint's time (a py-spy profile under load, issue 18).
        with runtime(request).db.session() as s:
            return {"runs": [run_header(row) for row in repo.list_run_headers(s, owner=owner, status=status,
                                                                              limit=limit)]}

    return await run_in_threadpool(query)


@router.get("/{run_id}", response_model=RunOut, summary="A run: status, plan, steps, assets, scores, error")
async def get_run(request: Request, run_id: str, owner: Owner):
    return await run_json(request, run_id, owner=owner)


@router.get("/{run_id}/events", responses=SSE_RESPONSE | {429: {"model": ErrorBody}}, response_class=StreamingResponse,
            summary="Server-sent events of a run; Last-Event-ID replays from there")
async def run_events(request: Request, run_id: str, owner: Owner, last_event_id: Annotated[str | None, Header()] = None,
                     after: Annotated[int | None, Query(ge=0, le=sse.MAX_ID, description="Replay after it")] = None):
    await _check(request, run_id, owner)
    slot = stream_slot(request, owner)
    return event_stream(request, run_id, slot, after if after is not None else sse.parse_last_id(last_event_id))


@router.post("/{run_id}/cancel", response_model=RunOut, status_code=202,
             summary="Cancel: a queued run at once, a running one between steps")
async def cancel_run(request: Request, run_id: str, owner: Owner):
    await _check(request, run_id, owner)
    await run_in_threadpool(runner(request).cancel, run_id)
    return await run_json(request, run_id, 202)


async def _check(request: Request, run_id: str, owner: str) -> None:
    def check() -> None:
        with runtime(request).db.session() as s:
            owned_run(s, run_id, owner)

    await run_in_threadpool(check)
