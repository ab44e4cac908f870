"""The cast bank: characters, styles and places a key keeps for later stories (issue 15). A reference
picture comes base64-encoded in the JSON body (`reference_image_base64`); it is decoded by the bounded
image reader before anything is stored. Another key's entities are 404, as if they did not exist."""
from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from agent import cast_bank
from api.deps import ERRORS, Owner, runtime
from api.errors import ApiError, not_found
from api.schemas import Text
from memory import repo

router = APIRouter(prefix="/v1/entities", tags=["cast"], responses=ERRORS)
Kind = Literal["character", "style", "place"]
Name = Annotated[Text, Field(min_length=1, max_length=cast_bank.MAX_NAME_CHARS, description="1-80 characters.")]


class NewEntity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind = "character"
    name: Name
    look: Text = Field(default="", max_length=cast_bank.MAX_LOOK_CHARS,
                       description="How it looks (a style: its prompt text); goes into every picture prompt.")
    voice: str | None = Field(default=None, max_length=50, description="A character's voice (`heart`).")
    reference_image_base64: str | None = Field(default=None, description="A picture (PNG, JPEG, WebP...) in base64.")


class EntityChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    look: Text | None = Field(default=None, max_length=cast_bank.MAX_LOOK_CHARS)
    voice: str | None = Field(default=None, max_length=50)
    reference_image_base64: str | None = None


class EntityOut(BaseModel):
    id: str
    kind: str
    name: str
    look: str
    voice: str | None
    reference_sha256: str | None
    created_at: str
    updated_at: str


class EntityList(BaseModel):
    entities: list[EntityOut]


def _picture(encoded: str | None) -> bytes | None:
    if encoded is None:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "invalid_request", "reference_image_base64 is not valid base64") from None


def _checked(call):
    try:
        return call()
    except cast_bank.CastError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None


@router.post("", response_model=EntityOut, status_code=201, summary="Bank a character, style or place")
async def create_entity(request: Request, body: NewEntity, owner: Owner) -> dict[str, Any]:
    picture = _picture(body.reference_image_base64)
    return await run_in_threadpool(_checked, lambda: cast_bank.add_entity(
        runtime(request), owner=owner, kind=body.kind, name=body.name, look=body.look, voice=body.voice,
        reference=picture))


@router.get("", response_model=EntityList, summary="Your banked entities, oldest first")
async def list_entities(request: Request, owner: Owner, kind: Annotated[Kind | None, Query()] = None) -> dict:
    def query() -> dict:
        with runtime(request).db.session() as s:
            return {"entities": [cast_bank.entity_dict(r) for r in repo.list_cast_entities(s, owner=owner, kind=kind)]}

    return await run_in_threadpool(query)


@router.get("/{entity_id}", response_model=EntityOut, summary="One banked entity")
async def get_entity(request: Request, entity_id: str, owner: Owner) -> dict:
    def view() -> dict:
        with runtime(request).db.session() as s:
            row = repo.get_cast_entity(s, entity_id, owner=owner)
            if row is None:
                raise not_found("entity")
            return cast_bank.entity_dict(row)

    return await run_in_threadpool(view)


@router.get("/{entity_id}/reference", response_class=FileResponse, summary="The entity's reference picture (PNG)",
            responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}})
async def get_reference(request: Request, entity_id: str, owner: Owner) -> FileResponse:
    def locate():
        rt = runtime(request)
        with rt.db.session() as s:
            row = repo.get_cast_entity(s, entity_id, owner=owner)
            if row is None or not row.reference_sha256:
                raise not_found("entity with a reference picture")
            return rt.store.path(row.reference_sha256)

    return FileResponse(await run_in_threadpool(locate), media_type="image/png")


@router.patch("/{entity_id}", response_model=EntityOut, summary="Change a banked entity")
async def change_entity(request: Request, entity_id: str, body: EntityChange, owner: Owner) -> dict:
    picture = _picture(body.reference_image_base64)
    fields = {k: v for k, v in body.model_dump(exclude_unset=True, exclude={"reference_image_base64"}).items()
              if v is not None or k == "voice"}  # a null voice goes back to the narrator's
    changed = await run_in_threadpool(_checked, lambda: cast_bank.change_entity(
        runtime(request), entity_id, owner=owner, fields=fields, reference=picture))
    if changed is None:
        raise not_found("entity")
    return changed


@router.delete("/{entity_id}", status_code=204, summary="Forget a banked entity (runs using it keep their copy)")
async def delete_entity(request: Request, entity_id: str, owner: Owner) -> Response:
    def delete() -> bool:
        with runtime(request).db.session() as s:
            return repo.delete_cast_entity(s, entity_id, owner=owner)

    if not await run_in_threadpool(delete):
        raise not_found("entity")
    return Response(status_code=204)
