"""Turning a run's request into a validated Plan (recipes now; the free-form LLM planner builds on this)."""
from __future__ import annotations

from agent.executor import Emit
from agent.llm_record import RecordedLLM
from agent.plan import Plan, validate_plan
from agent.recipes import story
from agent.runtime import Runtime
from memory import repo
from tools.base import ToolError


def plan_run(rt: Runtime, run_id: str, emit: Emit) -> Plan:
    """Write the run's content with the LLM, compile it into a plan, validate and record it."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        kind, request, seed, scenes = run.kind, run.request, run.seed or 0, int(run.info.get("scenes", 3))
    if kind != "story":
        raise ToolError(f"run kind {kind!r} has no planner yet")
    emit({"type": "stage", "stage": "plan", "detail": f"storyboard by {rt.llm.name}"})
    llm = run_llm(rt, run_id)
    result = story.write_storyboard(
        llm, request, scenes, seed=seed, max_tokens=rt.settings.story.llm_max_new_tokens,
        progress=lambda text: emit({"type": "stage", "stage": "plan", "detail": text}),
    )
    plan = story.compile_plan(result.storyboard, rt.settings.story, seed=seed)
    errors = validate_plan(plan)
    if errors:
        raise ToolError("; ".join(errors))
    _record(rt, run_id, plan, result)
    return plan


def run_llm(rt: Runtime, run_id: str) -> RecordedLLM:
    """The runtime's LLM for one run: its answers are recorded as the run's assets and cached."""
    return RecordedLLM(rt.llm, rt.db, rt.store, run_id=run_id, use_cache=rt.settings.executor.cache)


def _record(rt: Runtime, run_id: str, plan: Plan, result: story.StoryboardResult) -> None:
    board = result.storyboard
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        info = {**run.info, "storyboard": {"source": result.source, "llm": rt.llm.name, "notes": result.notes,
                                           "board": board.model_dump()}}
        repo.update_run(s, run_id, title=board.title, plan=plan.model_dump(), info=info)
        for character in board.characters:
            repo.create_entity(s, name=character.name, kind="character", description=character.look,
                               run_id=run_id, session_id=run.session_id)
