"""Review before rendering, the graph's side: which storyboard a run pauses on, the pause itself, and the
plan recompiled from the approved storyboard when it continues.

A run asked with `review` (a story, a chat turn, a brief whose story deliverable says `review: true`)
stops after planning at a LangGraph interrupt; its checkpoint keeps the place, so nothing (no worker,
no model) is held while it waits, and a restarted server continues it from there once approved. The
reviewer's board and whether it was approved live in the run's info (`review_board`).
"""
from __future__ import annotations

from typing import Any

from agent.plan_schema import ALLOWED_TOOLS, Plan, validate_plan
from agent.recipes.brief import Brief, StorySpec, compile_brief
from agent.recipes.review import parse_board, to_storyboard, view
from agent.recipes.story import compile_plan
from agent.recipes.storyboard import Storyboard
from agent.runtime import Runtime
from memory import repo
from tools.base import ToolError

AWAITING = "awaiting_review"
# The run info's key of the reviewer's board and whether it was approved ("review": true is the request).
RECORD = "review_board"


def reviewed_deliverable(brief: dict[str, Any]) -> int | None:
    """Position of a brief's first story deliverable asking for review, None when none does."""
    for index, item in enumerate(brief.get("deliverables", [])):
        if isinstance(item, dict) and item.get("kind") == "story" and item.get("review"):
            return index
    return None


def board_of(rt: Runtime, run_id: str) -> tuple[Storyboard, int, int | None] | None:
    """(the storyboard to review, the seed its scenes start from, its brief deliverable or None), or None
    when the run has no storyboard (a free-form plan): such a run is not paused."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        info, seed = dict(run.info or {}), run.seed or 0
    if "brief" in info:
        index = reviewed_deliverable(info["brief"])
        board = ((info.get("brief_text") or {}).get("boards") or {}).get(str(index))
        return (Storyboard.model_validate(board), seed + 100 * (index + 1), index) if board else None
    board = (info.get("storyboard") or {}).get("board")
    return (Storyboard.model_validate(board), seed, None) if board else None


def shown(rt: Runtime, run_id: str) -> dict[str, Any] | None:
    """The reviewer's storyboard of the run (see agent.recipes.review.view), None when it has none."""
    found = board_of(rt, run_id)
    return view(found[0], found[1]) if found else None


def record_pause(rt: Runtime, run_id: str, board: dict[str, Any]) -> bool:
    """Mark the running run awaiting review with `board`; False when it is no longer running."""
    with rt.db.session() as s:
        info = dict(repo.get_run(s, run_id).info or {})
        info[RECORD] = {"board": board, "approved": False}
        return repo.set_status_if(s, run_id, expected="running", status=AWAITING, info=info)


def approved_board(rt: Runtime, run_id: str) -> dict[str, Any] | None:
    """The board an approve continues with (None unless the run was approved)."""
    with rt.db.session() as s:
        record = (repo.get_run(s, run_id).info or {}).get(RECORD) or {}
    return record.get("board") if record.get("approved") else None


def apply(rt: Runtime, run_id: str, approved: dict[str, Any]) -> Plan:
    """Recompile the run's plan from the approved board and record both; ToolError when it is not valid."""
    found = board_of(rt, run_id)
    if found is None:
        raise ToolError("the run has no storyboard to continue with")
    base, _, index = found
    board = to_storyboard(parse_board(approved), base)
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        info = dict(run.info or {})
        if index is None:
            plan = compile_plan(board, rt.settings.story, seed=run.seed or 0)
            info["storyboard"] = {**info["storyboard"], "board": board.model_dump(), "reviewed": True}
        else:
            plan, info["brief_text"] = _brief_plan(rt, info, board, index, run.seed or 0)
        errors = validate_plan(plan, ALLOWED_TOOLS[run.kind])
        if errors:
            raise ToolError("; ".join(errors))
        repo.update_run(s, run_id, plan=plan.model_dump(), info=info, title=board.title if index is None else run.title)
    return plan


def _brief_plan(rt: Runtime, info: dict, board: Storyboard, index: int, seed: int) -> tuple[Plan, dict]:
    brief = Brief.model_validate(info["brief"])
    if not isinstance(brief.deliverables[index], StorySpec):
        raise ToolError(f"deliverable {index} is not a story")
    text = dict(info.get("brief_text") or {})
    boards = {int(k): Storyboard.model_validate(v) for k, v in (text.get("boards") or {}).items()}
    boards[index] = board
    texts = {int(k): v for k, v in (text.get("texts") or {}).items()}
    text["boards"] = {str(k): b.model_dump() for k, b in boards.items()}
    return compile_brief(brief, rt.settings.story, seed=seed, texts=texts, boards=boards), text
