"""Review before rendering, the caller's side: edit a paused run's storyboard, approve it, cancel it.

Every change is a conditional UPDATE on the run's status (memory.repo.set_status_if), so an edit that
meets an approve, or two approves at the same moment, cannot both win: exactly one approve queues the
run again, the other finds it approved and answers with the run as it is.
"""
from __future__ import annotations

from typing import Any

from agent.recipes.review import ReviewBoard, merge, parse_board, parse_patch
from agent.review import AWAITING, RECORD
from agent.runtime import Runtime
from memory import repo


class NotAwaitingReview(Exception):
    """The run is not paused for review (one line: what it is instead)."""

    def __init__(self, status: str) -> None:
        super().__init__(f"the run is not awaiting review; it is {status}")


def current(rt: Runtime, run_id: str, owner: str | None = None) -> ReviewBoard:
    """The board of a run awaiting review; KeyError when there is no such run, NotAwaitingReview else."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id, owner=owner)
        if run is None:
            raise KeyError(run_id)
        if run.status != AWAITING:
            raise NotAwaitingReview(run.status)
        return ReviewBoard.model_validate(run.info[RECORD]["board"])


def edit(rt: Runtime, run_id: str, patch: Any, owner: str | None = None) -> dict[str, Any]:
    """Merge `patch` (JSON) into the paused run's board; returns the new board. BoardError for a bad
    patch (its `conflict` for a locked scene), NotAwaitingReview when the run no longer waits."""
    board = merge(current(rt, run_id, owner), parse_patch(patch)).model_dump()
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        info = {**(run.info or {}), RECORD: {"board": board, "approved": False}}
        if not repo.set_status_if(s, run_id, expected=AWAITING, info=info):
            raise NotAwaitingReview(repo.get_run(s, run_id).status)
    return board


def approve(rt: Runtime, run_id: str, board: Any = None, owner: str | None = None) -> bool:
    """Approve the paused run, with `board` (a whole board, e.g. storyboard.yaml) or its current one.
    True when this call queued the run again; False when it was approved already (a repeat or a race);
    NotAwaitingReview when it never waited, BoardError for a bad board."""
    given = parse_board(board).model_dump() if board is not None else None
    with rt.db.session() as s:
        run = repo.get_run(s, run_id, owner=owner)
        if run is None:
            raise KeyError(run_id)
        if not repo.set_status_if(s, run_id, expected=AWAITING, status="queued"):
            if ((repo.get_run(s, run_id).info or {}).get(RECORD) or {}).get("approved"):
                return False
            raise NotAwaitingReview(repo.get_run(s, run_id).status)
        info = dict(repo.get_run(s, run_id).info or {})
        info[RECORD] = {"board": given or info[RECORD]["board"], "approved": True}
        repo.update_run(s, run_id, info=info)
    return True


def cancel_paused(rt: Runtime, run_id: str) -> bool:
    """Take a paused run out of review for its cancel; True when it was awaiting review."""
    with rt.db.session() as s:
        return repo.set_status_if(s, run_id, expected=AWAITING, status="cancelled", error="cancelled")
