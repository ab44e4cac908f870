"""Turning a run's request into a validated Plan: the story recipe, or the free-form LLM planner
(which hands story requests back to the story recipe)."""
from __future__ import annotations

from agent.executor import Emit
from agent.llm_record import RecordedLLM
from agent.plan import ALLOWED_TOOLS, Plan, validate_plan
from agent.planner import plan_request
from agent.recipes import story
from agent.recipes.freeform import freeform_plan
from agent.runtime import Runtime
from memory import repo
from tools.base import ToolError


def plan_run(rt: Runtime, run_id: str, emit: Emit) -> Plan:
    """Write the run's content with the LLM, compile it into a plan, validate and record it."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        kind, request, seed, scenes = run.kind, run.request, run.seed or 0, int(run.info.get("scenes", 3))
    llm = run_llm(rt, run_id)
    if kind == "freeform":
        plan = _freeform(rt, run_id, llm, request, seed, emit)
        if plan is not None:
            return plan
    elif kind != "story":
        raise ToolError(f"run kind {kind!r} has no planner yet")
    emit({"type": "stage", "stage": "plan", "detail": f"storyboard by {rt.llm.name}"})
    result = story.write_storyboard(
        llm, request, scenes, seed=seed, max_tokens=rt.settings.story.llm_max_new_tokens,
        progress=lambda text: emit({"type": "stage", "stage": "plan", "detail": text}),
    )
    plan = story.compile_plan(result.storyboard, rt.settings.story, seed=seed)
    errors = validate_plan(plan, ALLOWED_TOOLS["story"])
    if errors:
        raise ToolError("; ".join(errors))
    _record(rt, run_id, plan, result)
    return plan


def _freeform(rt: Runtime, run_id: str, llm: RecordedLLM, request: str, seed: int, emit: Emit) -> Plan | None:
    """The LLM planner's validated plan, or None when the request is really a story."""
    emit({"type": "stage", "stage": "plan", "detail": f"planning with {rt.llm.name}"})
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        entities = [f"{e.name}: {e.description}" for e in repo.list_entities(s, session_id=run.session_id)] \
            if run.session_id else []
    try:
        result = plan_request(llm, request, entities=entities, seed=seed)
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    if result.plan is None and result.intent == "story":
        with rt.db.session() as s:
            repo.update_run(s, run_id, kind="story", info={**repo.get_run(s, run_id).info, "planner": result.to_dict()})
        return None
    plan = result.plan or freeform_plan(request, seed=seed)  # brief/narration recipes: nearest deterministic plan
    errors = validate_plan(plan, ALLOWED_TOOLS["freeform"])
    if errors:
        raise ToolError("; ".join(errors))
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        record = {k: v for k, v in result.to_dict().items() if k != "plan"}
        repo.update_run(s, run_id, plan=plan.model_dump(), title=request[:120], info={**run.info, "planner": record})
    emit({"type": "stage", "stage": "plan", "detail": result.summary()})
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
