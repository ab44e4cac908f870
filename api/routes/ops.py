"""Operations: liveness and Prometheus metrics (no key needed; bind the server to a private address)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from api.deps import runner, runtime
from api.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="Liveness: the database answers and workers run")
async def healthz(request: Request) -> dict:
    rt = runtime(request)

    await run_in_threadpool(rt.db.ping)
    depth = await run_in_threadpool(runner(request).queue_depth)  # the queue is the runs table
    return {"status": "ok", "profile": rt.profile, "database": rt.db.engine.dialect.name,
            "workers": runner(request).workers, "queue_depth": depth}


@router.get("/metrics", response_class=Response, summary="Prometheus text format",
            responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}})
async def metrics(request: Request) -> Response:
    body = await run_in_threadpool(request.app.state.metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
