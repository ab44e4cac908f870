"""Renaming a chat session (the Studio's session list; any client may use it)."""
from __future__ import annotations

import re

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from agent.service import chat
from api.deps import ERRORS, Owner, runtime
from api.schemas import SessionOut
from api.views import owned_session
from memory import repo

router = APIRouter(prefix="/v1/sessions", tags=["sessions"], responses=ERRORS)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SessionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=500, description="The new title, shown in lists.")

    @field_validator("title")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = " ".join(value.split())  # new lines and tabs become spaces
        if not value:
            raise ValueError("the title is empty")
        if _CONTROL.search(value):
            raise ValueError("the title may not contain control characters")
        return value


@router.patch("/{session_id}", response_model=SessionOut, summary="Rename a session")
async def rename_session(request: Request, session_id: str, body: SessionPatch, owner: Owner) -> dict:
    def rename() -> dict:
        with runtime(request).db.session() as s:
            owned_session(s, session_id, owner)
            row = repo.update_session(s, session_id, title=body.title)
            return chat.session_dict(row, repo.list_messages(s, session_id))

    return await run_in_threadpool(rename)
