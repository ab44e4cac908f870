"""Content briefs from other systems: a goal and a list of deliverables, run as one job.

`Idempotency-Key` makes retries safe: the same key with the same body returns the first run (200)
instead of starting another; the same key with a different body is refused (422)."""
from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, Header, Request
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from agent.recipes.brief import Brief
from agent.service.runs import create_brief_run
from api.deps import ERRORS, Owner, checked_webhook, run_json, runtime, start_run
from api.errors import ApiError
from api.schemas import ErrorBody, RunOut, WebhookUrl, nul_field
from memory import repo

router = APIRouter(prefix="/v1/briefs", tags=["briefs"], responses=ERRORS)


class BriefRequest(Brief):
    """A brief, and where to be told when its run ends."""

    webhook_url: WebhookUrl = None


@router.post("", response_model=RunOut, status_code=202,
             responses={200: {"model": RunOut, "description": "A repeat of an earlier request (same Idempotency-Key "
                              "and body): the run it started."}, 429: {"model": ErrorBody}},
             summary="Submit a content brief; answers 202 with the queued run")
async def submit_brief(request: Request, asked: BriefRequest, owner: Owner,
                       idempotency_key: Annotated[str | None, Header(max_length=200)] = None):
    # A repeat must match the first body, webhook_url included (absent, it leaves the hash as it was).
    body = asked.model_dump(mode="json", exclude={"webhook_url"} if asked.webhook_url is None else None)
    brief = Brief.model_validate(asked.model_dump(exclude={"webhook_url"}))
    if where := nul_field(body):
        raise ApiError(422, "invalid_request", f"{where[5:]}: text may not contain NUL (\\u0000) characters")
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    if idempotency_key:
        earlier = await run_in_threadpool(_earlier, request, owner, idempotency_key, digest)
        if earlier:
            return await run_json(request, earlier, 200)
    webhook_url = await checked_webhook(request, asked.webhook_url)

    def create() -> str:
        return create_brief_run(runtime(request), brief, api_key_id=owner, idempotency_key=idempotency_key,
                                request_hash=digest, webhook_url=webhook_url)

    try:
        run_id = await start_run(request, owner, create)
    except IntegrityError:  # the same Idempotency-Key raced in from a parallel request: that run is the answer
        earlier = await run_in_threadpool(_earlier, request, owner, idempotency_key, digest)
        return await run_json(request, earlier, 200)
    return await run_json(request, run_id, 202)


def _earlier(request: Request, owner: str, key: str, digest: str) -> str | None:
    with runtime(request).db.session() as s:
        run = repo.find_by_idempotency_key(s, owner=owner, key=key)
        if run is None:
            return None
        if run.request_hash != digest:
            raise ApiError(422, "idempotency_mismatch",
                           "this Idempotency-Key was used with a different request body")
        return run.id
