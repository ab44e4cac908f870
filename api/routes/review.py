"""Review before rendering: a run asked with `review` pauses after planning (status awaiting_review);
its storyboard is edited here and approved, and the run continues from where it stopped."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from agent.recipes.review import BoardError, BoardPatch
from agent.service import review
from api.deps import ERRORS, Owner, run_json, runner, runtime
from api.errors import ApiError, not_found
from api.schemas import ErrorBody, RunOut

router = APIRouter(prefix="/v1/runs", tags=["runs"], responses=ERRORS | {409: {"model": ErrorBody}})


@router.get("/{run_id}/review", summary="The storyboard of a run awaiting review, as it will be approved")
async def get_review(request: Request, run_id: str, owner: Owner) -> dict:
    board = await run_in_threadpool(_answer, review.current, runtime(request), run_id, owner)
    return {"storyboard": board.model_dump()}


@router.patch("/{run_id}/storyboard", summary="Edit the storyboard of a run awaiting review (scenes by number)")
async def edit_storyboard(request: Request, run_id: str, patch: BoardPatch, owner: Owner) -> dict:
    board = await run_in_threadpool(_answer, review.edit, runtime(request), run_id, patch, owner)
    return {"storyboard": board}


@router.post("/{run_id}/approve", response_model=RunOut, status_code=202,
             summary="Approve the storyboard: the run continues with it (a repeat returns the run)")
async def approve(request: Request, run_id: str, owner: Owner):
    continues = await run_in_threadpool(_answer, review.approve, runtime(request), run_id, None, owner)
    if continues:  # only the call that took the run out of review queues it
        await run_in_threadpool(runner(request).emit, run_id, {"type": "queued", "status": "queued"})
        runner(request).submit(run_id, owner)
    return await run_json(request, run_id, 202)


def _answer(action, *args):
    """The service call with its errors as HTTP answers: 404, 409 (one line), 422 naming the field."""
    try:
        return action(*args)
    except KeyError:
        raise not_found("run") from None
    except review.NotAwaitingReview as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    except BoardError as exc:
        raise ApiError(409 if exc.conflict else 422, "conflict" if exc.conflict else "invalid_request",
                       str(exc)) from None
