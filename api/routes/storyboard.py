"""A story run's storyboard as soon as planning has written it: title, cast and scenes."""
from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import ERRORS, Owner, runtime
from api.errors import ApiError
from api.views import owned_run

router = APIRouter(prefix="/v1/runs", tags=["runs"], responses=ERRORS)


class CastMember(BaseModel):
    name: str
    look: str


class SceneOut(BaseModel):
    number: int = Field(description="1-based, as chat edits name it (\"in scene 2, ...\").")
    narration: str
    picture: str = Field(description="What the picture shows; the picture's alt text.")
    seed: int | None = Field(default=None, description="The scene's picture and voice seed.")
    locked: bool = Field(default=False, description="Locked: the critic, edits and redos leave it as it is.")


class StoryboardOut(BaseModel):
    title: str
    characters: list[CastMember] = Field(default_factory=list)
    scenes: list[SceneOut] = Field(default_factory=list)
    source: str | None = Field(default=None, description="llm | mixed | fallback | edit | redo")


@router.get("/{run_id}/storyboard", response_model=StoryboardOut,
            summary="The storyboard of a story run (404 until planning has written it)")
async def get_storyboard(request: Request, run_id: str, owner: Owner) -> dict:
    def read() -> dict:
        with runtime(request).db.session() as s:
            record = (owned_run(s, run_id, owner).info or {}).get("storyboard") or {}
        if not record.get("board"):
            raise ApiError(404, "not_found", "this run has no storyboard (not a story, or not planned yet)")
        return storyboard_json(record)

    return await run_in_threadpool(read)


def storyboard_json(record: dict) -> dict:
    """A run's storyboard record (`info["storyboard"]`) as StoryboardOut's JSON."""
    board = record["board"]
    scenes = [{"number": n, "narration": sc["narration"], "picture": sc["picture"], "seed": sc.get("seed"),
               "locked": bool(sc.get("locked"))} for n, sc in enumerate(board.get("scenes", []), start=1)]
    return {"title": board["title"], "characters": board.get("characters", []), "scenes": scenes,
            "source": record.get("source")}
