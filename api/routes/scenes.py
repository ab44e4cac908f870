"""After a story run: redo one scene (a new run) and lock or unlock scenes."""
from __future__ import annotations

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from agent.recipes.redo import Conflict, SceneRedo
from agent.service import redo as redos
from api.deps import ERRORS, Owner, run_json, runtime, start_run
from api.errors import ApiError, not_found
from api.routes.storyboard import StoryboardOut, storyboard_json
from api.schemas import ErrorBody, RunOut, Text
from tools.base import RequestSeed

router = APIRouter(prefix="/v1/runs", tags=["runs"], responses=ERRORS)
SceneNumber = Path(ge=1, le=64, description="1-based, as GET /v1/runs/{id}/storyboard numbers them.")
CONFLICT = {409: {"model": ErrorBody}}


class RedoBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed: RequestSeed | None = Field(default=None, description="The scene's new seed (none given: a new one).")
    picture: Text | None = Field(default=None, min_length=1, max_length=300, description="What the picture shows.")
    narration: Text | None = Field(default=None, min_length=1, max_length=1000, description="Read aloud.")


@router.post("/{run_id}/scenes/{number}/redo", response_model=RunOut, status_code=202,
             responses=CONFLICT | {429: {"model": ErrorBody}},
             summary="Redo one scene of a finished story: a new run; the cache serves every other scene")
async def redo_scene(request: Request, run_id: str, owner: Owner, number: int = SceneNumber,
                     body: RedoBody | None = None):
    body = body or RedoBody()
    change = SceneRedo(scene=number, seed=body.seed, picture=body.picture, narration=body.narration)
    await run_in_threadpool(_checked, request, run_id, owner, number)  # 404/409/422 before the in-flight count
    new_run = await start_run(request, owner, lambda: _call(redos.start_redo, runtime(request), run_id, change,
                                                            api_key_id=owner))
    return await run_json(request, new_run, 202)


@router.post("/{run_id}/scenes/{number}/lock", response_model=StoryboardOut, responses=CONFLICT,
             summary="Lock a scene: the critic, chat edits and redos leave it as it is")
async def lock_scene(request: Request, run_id: str, owner: Owner, number: int = SceneNumber) -> dict:
    return await _set_locked(request, run_id, owner, number, True)


@router.post("/{run_id}/scenes/{number}/unlock", response_model=StoryboardOut, responses=CONFLICT,
             summary="Unlock a scene")
async def unlock_scene(request: Request, run_id: str, owner: Owner, number: int = SceneNumber) -> dict:
    return await _set_locked(request, run_id, owner, number, False)


async def _set_locked(request: Request, run_id: str, owner: str, number: int, locked: bool) -> dict:
    board = await run_in_threadpool(_call, redos.set_locked, runtime(request), run_id, number, locked,
                                    api_key_id=owner)
    return storyboard_json({"board": board.model_dump(), "source": None})


def _checked(request: Request, run_id: str, owner: str, number: int) -> None:
    _call(redos.check_redo, runtime(request), run_id, number, api_key_id=owner)


def _call(function, *args, **kwargs):
    """The service's errors as HTTP errors: 404, 409 and 422, each one line."""
    try:
        return function(*args, **kwargs)
    except KeyError:
        raise not_found("run") from None
    except Conflict as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
