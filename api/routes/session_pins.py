"""A session's pins: a style and a seed every later turn of the session uses until they change."""
from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from agent.service import pins as pinning
from api.deps import ERRORS, Owner, runtime
from api.errors import not_found
from tools.base import RequestSeed

router = APIRouter(prefix="/v1/sessions", tags=["sessions"], responses=ERRORS)


class Pins(BaseModel):
    model_config = ConfigDict(extra="forbid")
    style: str | None = Field(default=None, min_length=1, max_length=200,
                              description='How every picture looks, e.g. "watercolour, soft morning light".')
    seed: RequestSeed | None = Field(default=None, description="The base seed of every later new story.")

    @field_validator("style")
    @classmethod
    def _plain(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if not value or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError("the style must be words, without control characters")
        return value


@router.put("/{session_id}/pins", response_model=Pins,
            summary="Pin a style and a seed for the session's later turns ({} unpins both)")
async def put_pins(request: Request, session_id: str, body: Pins, owner: Owner) -> dict:
    pins = body.model_dump(exclude_none=True)
    return await run_in_threadpool(_owned_call, pinning.set_pins, runtime(request), session_id, pins, api_key_id=owner)


@router.get("/{session_id}/pins", response_model=Pins, summary="The session's pins")
async def get_pins(request: Request, session_id: str, owner: Owner) -> dict:
    return await run_in_threadpool(_owned_call, pinning.get_pins, runtime(request), session_id, api_key_id=owner)


def _owned_call(function, *args, **kwargs) -> dict:
    try:
        return function(*args, **kwargs)
    except KeyError:  # another key's session is as missing as one that never was
        raise not_found("session") from None
