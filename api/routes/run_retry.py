"""Retrying a failed or cancelled run: a new run of the same kind, request, settings and seed.

Every call that succeeded before is identical again, so the tool-call cache answers it and only what
failed (or never ran) is computed. A run of a chat session stays in its session: the retry is
recorded as the same message again, so the thread shows it and its reply."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from agent.service.runs import create_run
from api.deps import ERRORS, Owner, run_json, runtime, start_run
from api.errors import ApiError
from api.schemas import ErrorBody, RunOut
from api.views import owned_run

router = APIRouter(prefix="/v1/runs", tags=["runs"], responses=ERRORS)
RETRYABLE = ("failed", "cancelled")
# What a run adds to its info while it executes; a retry starts from what its request set.
_RECORDS = ("storyboard", "planner", "brief_text", "cancel_requested", "retry_of", "verdict", "critic_s",
            "review_board")


@router.post("/{run_id}/retry", response_model=RunOut, status_code=202,
             responses={409: {"model": ErrorBody}, 429: {"model": ErrorBody}},
             summary="Retry a failed or cancelled run; the cache serves every step that succeeded before")
async def retry_run(request: Request, run_id: str, owner: Owner):
    rt = runtime(request)
    original = await run_in_threadpool(_original, rt, run_id, owner)

    def create() -> str:  # in a session, the repeated message commits with the new run
        return create_run(rt, kind=original["kind"], request=original["request"], seed=original["seed"],
                          session_id=original["session_id"], info=original["info"], api_key_id=owner,
                          message=original["request"] if original["session_id"] else None)

    new_run = await start_run(request, owner, create)
    return await run_json(request, new_run, 202)


def _original(rt, run_id: str, owner: str) -> dict[str, Any]:
    with rt.db.session() as s:
        run = owned_run(s, run_id, owner)
        if run.status not in RETRYABLE:
            raise ApiError(409, "conflict", f"only a failed or cancelled run can be retried; this one is {run.status}")
        info = {k: v for k, v in (run.info or {}).items() if k not in _RECORDS}
        job = info.get("narration")
        if job:
            info["narration"] = {k: v for k, v in job.items() if k != "totals"}
            if job.get("uploaded") and not all(Path(p).exists() for p in job.get("paths", [])):
                raise ApiError(409, "conflict", "the uploaded files of this job are gone; upload them again")
        return {"kind": run.kind, "request": run.request, "seed": run.seed or 0, "session_id": run.session_id,
                "info": {**info, "retry_of": run.id}}
