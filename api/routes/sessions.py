"""Chat sessions: a thread of turns; each turn starts a run that sees the session's history."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from agent.service import MAX_PROMPT_CHARS
from api.deps import ERRORS, SSE_RESPONSE, Owner, event_stream, run_json, runtime, start_run, wants_stream
from api.errors import ApiError
from api.schemas import ErrorBody, RunOut, SessionList, SessionOut
from api.views import owned_session, session_out
from memory.models import ChatSession, Message

router = APIRouter(prefix="/v1/sessions", tags=["sessions"], responses=ERRORS)


class NewSession(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=500, description="Shown in lists; defaults to the first turn.")


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS,
                         description='What you want, e.g. "make the seal wear a red scarf in scene 2".')
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


@router.post("", response_model=SessionOut, status_code=201, summary="Start a chat session")
async def create_session(request: Request, owner: Owner, body: NewSession | None = None) -> dict:
    from agent.chat import create_session as create

    def make() -> dict:
        rt = runtime(request)
        session_id = create(rt, api_key_id=owner, title=(body.title if body else None))
        with rt.db.session() as s:
            return session_out(s, s.get(ChatSession, session_id))

    return await run_in_threadpool(make)


@router.get("", response_model=SessionList, summary="Your sessions, newest first")
async def list_sessions(request: Request, owner: Owner, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict:
    def query() -> dict:
        stmt = (select(ChatSession).where(ChatSession.api_key_id == owner)
                .order_by(ChatSession.created_at.desc(), ChatSession.id).limit(limit))
        with runtime(request).db.session() as s:
            return {"sessions": [session_out(s, row) for row in s.scalars(stmt)]}

    return await run_in_threadpool(query)


@router.get("/{session_id}", response_model=SessionOut, summary="A session with its messages")
async def get_session(request: Request, session_id: str, owner: Owner) -> dict:
    def view() -> dict:
        with runtime(request).db.session() as s:
            row = owned_session(s, session_id, owner)
            messages = s.scalars(select(Message).where(Message.session_id == row.id)
                                 .order_by(Message.created_at, Message.id))
            return session_out(s, row, list(messages))

    return await run_in_threadpool(view)


@router.post("/{session_id}/messages", response_model=RunOut, status_code=202,
             responses=SSE_RESPONSE | {429: {"model": ErrorBody}},
             summary="A chat turn: starts a run; Accept: text/event-stream streams its events instead")
async def post_message(request: Request, session_id: str, turn: Turn, owner: Owner):
    from agent.chat import start_turn

    def check() -> None:
        with runtime(request).db.session() as s:
            owned_session(s, session_id, owner)

    def create() -> str:
        try:
            return start_turn(runtime(request), session_id, turn.content, api_key_id=owner, seed=turn.seed)
        except ValueError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from None

    await run_in_threadpool(check)
    run_id = await start_run(request, owner, create)
    return event_stream(request, run_id) if wants_stream(request) else await run_json(request, run_id, 202)
