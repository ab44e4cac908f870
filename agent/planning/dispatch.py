"""Planning by run kind: a run's request becomes a validated, recorded Plan. Stories use the story
recipe (or a chat edit of an earlier storyboard), briefs the brief recipe, free-form requests the LLM
planner (which hands story requests back to the story recipe). Runs of a chat session are planned
with the session's history and characters."""
from __future__ import annotations

from pydantic import ValidationError

from agent import cast_bank
from agent.executor import Emit
from agent.llm import EmbeddedLLM, RecordedLLM
from agent.plan_schema import ALLOWED_TOOLS, Plan, validate_plan
from agent.planning.capabilities import CapabilityCheck, check_capabilities, instructions, model_embed
from agent.planning.context import session_context
from agent.planning.llm_planner import plan_request
from agent.recipes import story
from agent.recipes.brief import Brief
from agent.recipes.brief_text import plan_brief
from agent.recipes.edit import SceneEdit, apply_edit
from agent.recipes.freeform import freeform_plan
from agent.recipes.redo import SceneRedo, keep_delivered, kept_scenes
from agent.recipes.story_bank import apply_bank, apply_place, apply_styles, condition_plan
from agent.recipes.storyboard import Storyboard
from agent.runtime import Runtime
from memory import repo
from tools.base import ToolError

# A narration job describes files; a free-form request names none, so it cannot become one.
NARRATION_ELSEWHERE = ("describing a media library is a narration job: run `storyloom narrate PATH...`, or send "
                       "the files to POST /v1/narrations/upload (or paths to POST /v1/narrations)")


class Declined(ToolError):
    """Nothing Storyloom's tools can do for the request (or a file it names is absent); the message says
    so, and what Storyloom can do instead."""


def plan_run(rt: Runtime, run_id: str, emit: Emit) -> Plan:
    """Check what the request needs (Declined when no tool serves it), then write the run's content with
    the LLM, compile it into a plan, validate and record it."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        kind, request, seed, scenes = run.kind, run.request, run.seed or 0, int(run.info.get("scenes", 3))
        info = {**run.info, "owner": run.api_key_id}
    given: dict[str, str] = {}
    if kind == "freeform":  # a story run was asked for as a story: its words are the story's content
        check, given = _capability(rt, run_id, request, emit)
        request = check.doable if check.supported == "partial" else request
    llm = rt.llm_for(run_id)
    if kind == "brief":
        return _brief(rt, run_id, llm, info, seed, emit)
    if kind == "story" and "redo" in info:
        return _story_redo(rt, run_id, info, seed, emit)
    if kind == "story" and "keep" in info:
        return _story_again(rt, run_id, info["keep"]["base_run"], emit)
    if kind == "story" and "chat" in info:
        return _story_edit(rt, run_id, llm, info, seed, emit)
    if kind == "freeform" and given:
        return _with_files(rt, run_id, request, seed, given, emit)
    if kind == "freeform":
        plan = _freeform(rt, run_id, llm, request, seed, emit)
        if plan is not None:
            return plan
    elif kind != "story":
        raise ToolError(f"run kind {kind!r} has no planner yet")
    emit({"type": "stage", "stage": "plan", "detail": f"storyboard by {rt.llm.name}"})
    banked = cast_bank.banked(rt, info["owner"], request)
    result = story.write_storyboard(
        llm, request, scenes, seed=seed, max_tokens=rt.settings.story.llm_max_new_tokens,
        progress=lambda text: emit({"type": "stage", "stage": "plan", "detail": text}),
        known="; ".join([*_context(rt, run_id)[1], *(f"{e['name']}: {e['look']}" for e in banked)]),
    )
    result.storyboard = styled(result.storyboard, info)
    plan = _checked(_with_bank(rt, run_id, result, request, banked, info["owner"], seed, emit), "story")
    _record(rt, run_id, plan, result)
    return plan


def _with_bank(rt: Runtime, run_id: str, result: story.StoryboardResult, request: str, banked: list[dict],
               owner: str | None, seed: int, emit: Emit) -> Plan:
    """The story's plan; banked characters it names bring their look, voice and reference picture, a banked
    place its look as the setting, a banked style its prompt text."""
    places = cast_bank.banked(rt, owner, request, "place")
    styles = cast_bank.banked(rt, owner, request, "style")
    result.storyboard = apply_place(apply_bank(result.storyboard, banked), places)
    if banked or places or styles:
        names = ", ".join(e["name"] for e in [*banked, *places, *styles])
        emit({"type": "stage", "stage": "plan", "detail": f"from the cast bank: {names}"})
    plan = apply_styles(story.compile_plan(result.storyboard, rt.settings.story, seed=seed), styles)
    return condition_plan(plan, result.storyboard, cast_bank.copy_into_run(rt, run_id, banked)) if banked else plan


def _capability(rt: Runtime, run_id: str, request: str, emit: Emit) -> tuple[CapabilityCheck, dict[str, str]]:
    """The capability check of the request, recorded in the run's info, and the session's files it names
    (kind -> asset id); Declined when nothing can be done."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        files = repo.session_files(s, run.session_id) if run.session_id else {}
        check = check_capabilities(request, embed=model_embed(rt.models), known_files=files)
        named = {name.lower(): asset_id for name, asset_id in files.items()}
        given = {asset.kind: asset.id for f in check.files if (asset := repo.get_asset(s, named.get(f.lower(), "")))}
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        repo.update_run(s, run_id, info={**run.info, "capability": check.to_dict()})
    if check.declined:
        raise Declined(check.reason)
    if check.supported == "partial":
        emit({"type": "stage", "stage": "plan", "detail": check.reason})
    return check, given


def _with_files(rt: Runtime, run_id: str, request: str, seed: int, given: dict[str, str], emit: Emit) -> Plan:
    """A request about the session's own files: the recipe wires them in (an LLM would have to invent ids)."""
    plan = _checked(freeform_plan(instructions(request), seed=seed, source="recipe", given=given), "freeform")
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        repo.update_run(s, run_id, plan=plan.model_dump(), title=request[:120],
                        info={**run.info, "planner": {"source": "recipe", "files": given}})
    emit({"type": "stage", "stage": "plan", "detail": f"{len(plan.steps)}-step plan on the session's files"})
    return plan


def writes_graphs(llm: object) -> bool:
    """Whether to ask this LLM for tool graphs: a server's model may; the embedded 135M one only fills text."""
    return not isinstance(llm, EmbeddedLLM)


def _checked(plan: Plan, kind: str) -> Plan:
    errors = validate_plan(plan, ALLOWED_TOOLS[kind])
    if errors:
        raise ToolError("; ".join(errors))
    return plan


def _context(rt: Runtime, run_id: str) -> tuple[list[str], list[str]]:
    """(history, entities) of the run's chat session; empty outside a session."""
    with rt.db.session() as s:
        return session_context(s, repo.get_run(s, run_id))


def styled(board: Storyboard, info: dict) -> Storyboard:
    """The board in the run's style (a session's pinned style), when the run has one."""
    return board.model_copy(update={"style": info["style"] or ""}) if "style" in info else board


def _story_edit(rt: Runtime, run_id: str, llm: RecordedLLM, info: dict, seed: int, emit: Emit) -> Plan:
    """A chat edit: the earlier storyboard with the named scene(s) changed; no new storyboard is asked for.
    Locked scenes keep what the earlier run delivered."""
    chat = info["chat"]
    edit = SceneEdit(**chat["edit"])
    emit({"type": "stage", "stage": "plan", "detail": f"editing {edit.describe()}"})
    board, notes = apply_edit(styled(Storyboard.model_validate(chat["board"]), info), edit, llm, seed=seed)
    plan = story.compile_plan(board, rt.settings.story, seed=seed)
    plan = _checked(keep_delivered(plan, chat.get("delivered", {}), kept_scenes(board)), "story")
    _record(rt, run_id, plan, story.StoryboardResult(board, "edit", notes), entities=False)
    return plan


def _story_redo(rt: Runtime, run_id: str, info: dict, seed: int, emit: Emit) -> Plan:
    """A scene redo: the earlier storyboard with one scene changed; every other scene keeps what the
    earlier run delivered, so the cache serves it."""
    redo = SceneRedo(**info["redo"]["change"])
    emit({"type": "stage", "stage": "plan", "detail": f"redoing {redo.describe()}"})
    board = styled(Storyboard.model_validate(info["redo"]["board"]), info)
    plan = story.compile_plan(board, rt.settings.story, seed=seed)
    plan = _checked(keep_delivered(plan, info["redo"]["delivered"], kept_scenes(board, redo.scene)), "story")
    _record(rt, run_id, plan, story.StoryboardResult(board, "redo", [redo.describe()]), entities=False)
    return plan


def _story_again(rt: Runtime, run_id: str, base_id: str, emit: Emit) -> Plan:
    """The session's earlier story, its plan unchanged (every step a cache hit): a turn that keeps its cast."""
    with rt.db.session() as s:
        base = repo.get_run(s, base_id)
        plan, title, board = Plan.model_validate(base.plan), base.title, base.info["storyboard"]
        cast = base.info.get("cast")
    emit({"type": "stage", "stage": "plan", "detail": f"keeping the cast of “{title}”"})
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        info = {**run.info, "storyboard": board, **({"cast": cast} if cast else {})}
        repo.update_run(s, run_id, title=title, plan=plan.model_dump(), info=info)
    return plan


def _brief(rt: Runtime, run_id: str, llm: RecordedLLM, info: dict, seed: int, emit: Emit) -> Plan:
    try:
        brief = Brief.model_validate(info.get("brief"))
    except ValidationError as exc:
        raise ToolError(f"the run's brief is not valid: {str(exc).splitlines()[0]}") from None
    emit({"type": "stage", "stage": "plan", "detail": f"brief of {len(brief.deliverables)} deliverable(s)"})
    plan, text = plan_brief(llm, brief, rt.settings.story, seed=seed,
                            progress=lambda detail: emit({"type": "stage", "stage": "plan", "detail": detail}))
    plan = _checked(plan, "brief")
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        repo.update_run(s, run_id, plan=plan.model_dump(), title=brief.goal[:120],
                        info={**run.info, "brief_text": text.record()})
        for board in text.boards.values():
            for character in board.characters:
                repo.create_entity(s, name=character.name, kind="character", description=character.look,
                                   run_id=run_id, session_id=run.session_id)
    return plan


def _freeform(rt: Runtime, run_id: str, llm: RecordedLLM, request: str, seed: int, emit: Emit) -> Plan | None:
    """The LLM planner's validated plan, or None when the request is really a story."""
    emit({"type": "stage", "stage": "plan", "detail": f"planning with {rt.llm.name}"})
    history, entities = _context(rt, run_id)
    try:
        result = plan_request(llm, request, history=history, entities=entities, seed=seed,
                              graphs=writes_graphs(rt.llm))
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    if result.plan is None and result.intent == "story":
        with rt.db.session() as s:
            repo.update_run(s, run_id, kind="story", info={**repo.get_run(s, run_id).info, "planner": result.to_dict()})
        return None
    if result.plan is None and result.intent == "narration":
        raise ToolError(NARRATION_ELSEWHERE)
    plan = _checked(result.plan or freeform_plan(request, seed=seed), "freeform")  # a brief: the nearest plan
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        record = {k: v for k, v in result.to_dict().items() if k != "plan"}
        repo.update_run(s, run_id, plan=plan.model_dump(), title=request[:120], info={**run.info, "planner": record})
    emit({"type": "stage", "stage": "plan", "detail": result.summary()})
    return plan


def _record(rt: Runtime, run_id: str, plan: Plan, result: story.StoryboardResult, *, entities: bool = True) -> None:
    board = result.storyboard
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        info = {**run.info, "storyboard": {"source": result.source, "llm": rt.llm.name, "notes": result.notes,
                                           "board": board.model_dump()}}
        repo.update_run(s, run_id, title=board.title, plan=plan.model_dump(), info=info)
        for character in board.characters if entities else []:  # an edit's cast is the earlier run's
            repo.create_entity(s, name=character.name, kind="character", description=character.look,
                               run_id=run_id, session_id=run.session_id)
