"""Chat sessions: a thread of turns; each turn starts a run that sees the session's history."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from agent.recipes.redo import Conflict
from agent.requests import MAX_PROMPT_CHARS, Budget
from agent.service import chat
from agent.service import pins as pinning
from api.deps import (
    ERRORS,
    SSE_RESPONSE,
    Owner,
    checked_webhook,
    event_stream,
    run_json,
    runtime,
    start_run,
    stream_slot,
    wants_stream,
)
from api.errors import ApiError
from api.schemas import ErrorBody, RunOut, SessionList, SessionOut, Text, WebhookUrl
from api.views import owned_session
from memory import repo
from tools.base import RequestSeed

router = APIRouter(prefix="/v1/sessions", tags=["sessions"], responses=ERRORS)


class NewSession(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Text | None = Field(default=None, max_length=500, description="Shown in lists; defaults to the first turn.")


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: Text = Field(min_length=1, max_length=MAX_PROMPT_CHARS,
                         description='What you want, e.g. "make the seal wear a red scarf in scene 2".')
    seed: RequestSeed = 0
    budget: Budget | None = Field(default=None, description="Limits of the turn's run; past one it ends failed "
                                  "with an error starting 'budget:'.")
    webhook_url: WebhookUrl = None
    review: bool = Field(default=False, description="Pause after planning (status awaiting_review) until the "
                         "storyboard is approved: POST /v1/runs/{id}/approve.")
    save_cast: bool = Field(default=False, description="Keep the story's characters in your cast bank "
                            "(`/v1/entities`) once it succeeds; \"keep Mara and Pip for later\" in the turn does too.")


@router.post("", response_model=SessionOut, status_code=201, summary="Start a chat session")
async def create_session(request: Request, owner: Owner, body: NewSession | None = None) -> dict:
    def make() -> dict:
        rt = runtime(request)
        session_id = chat.create_session(rt, api_key_id=owner, title=(body.title if body else None))
        return chat.session_view(rt, session_id, api_key_id=owner)

    return await run_in_threadpool(make)


@router.get("", response_model=SessionList, summary="Your sessions, newest first")
async def list_sessions(request: Request, owner: Owner, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict:
    def query() -> dict:
        with runtime(request).db.session() as s:
            rows = repo.list_sessions(s, api_key_id=owner, limit=limit)
            return {"sessions": [chat.session_dict(row, []) for row in rows]}

    return await run_in_threadpool(query)


@router.get("/{session_id}", response_model=SessionOut, summary="A session with its messages")
async def get_session(request: Request, session_id: str, owner: Owner) -> dict:
    def view() -> dict:
        with runtime(request).db.session() as s:
            return chat.session_dict(owned_session(s, session_id, owner), repo.list_messages(s, session_id))

    return await run_in_threadpool(view)


@router.post("/{session_id}/messages", response_model=RunOut, status_code=202,
             responses=SSE_RESPONSE | {429: {"model": ErrorBody}, 409: {"model": ErrorBody}, 200: {
                 "model": SessionOut, "description": "A pin message (\"pin the style ...\", \"unpin\"): no run, "
                                                     "the session with its new pins"}},
             summary="A chat turn: starts a run; Accept: text/event-stream streams its events instead")
async def post_message(request: Request, session_id: str, turn: Turn, owner: Owner):
    def check() -> None:
        with runtime(request).db.session() as s:
            owned_session(s, session_id, owner)

    def create() -> str:
        try:
            return chat.start_turn(runtime(request), session_id, turn.content, api_key_id=owner, seed=turn.seed,
                                   budget=turn.budget, webhook_url=turn.webhook_url, review=turn.review,
                                   save_cast=turn.save_cast)
        except Conflict as exc:  # an edit or redo of a locked scene
            raise ApiError(409, "conflict", str(exc)) from None
        except ValueError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from None

    def pin() -> dict | None:
        try:
            return pinning.pin_turn(runtime(request), session_id, turn.content, api_key_id=owner)
        except ValueError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from None

    await run_in_threadpool(check)
    await checked_webhook(request, turn.webhook_url)
    if (pinned := await run_in_threadpool(pin)) is not None:
        return JSONResponse(pinned)
    slot = stream_slot(request, owner) if wants_stream(request) else None  # 429 before the run is made
    try:
        run_id = await start_run(request, owner, create)
    except BaseException:
        if slot:
            slot.release()
        raise
    return event_stream(request, run_id, slot) if slot else await run_json(request, run_id, 202)
