"""The run service: create a run from a validated request, execute it through the graph, summarise it.

Whatever goes wrong inside a run ends as a failed run with a reason (and the traceback in the data
dir's log folder for programming errors); nothing escapes to kill the caller.
"""
from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from agent.checkpoint import checkpointer
from agent.deliver import deliver_run
from agent.executor import Emit, Executor
from agent.runtime import Runtime
from memory import repo

log = logging.getLogger("storyloom.service")
MAX_PROMPT_CHARS = 2000


class StoryRequest(BaseModel):
    """A story job: validated before anything is created, so bad input leaves nothing behind."""

    prompt: str = Field(max_length=MAX_PROMPT_CHARS)
    scenes: int = Field(default=3, ge=1, le=24)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the prompt is empty")
        return value.strip()


def create_story_run(rt: Runtime, request: StoryRequest, out_dir: Path | None = None,
                     session_id: str | None = None, **fields: Any) -> str:
    return create_run(rt, "story", request.prompt, request.seed, out_dir, session_id, {"scenes": request.scenes},
                       **fields)


class FreeformRequest(BaseModel):
    """A free-form request for the planner (`storyloom run`)."""

    request: str = Field(max_length=8000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)

    @field_validator("request")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the request is empty")
        return value.strip()


def create_freeform_run(rt: Runtime, request: FreeformRequest, out_dir: Path | None = None,
                        session_id: str | None = None, **fields: Any) -> str:
    return create_run(rt, "freeform", request.request, request.seed, out_dir, session_id, {"scenes": 3}, **fields)


def create_run(rt: Runtime, kind: str, text: str, seed: int, out_dir: Path | None, session_id: str | None,
                info: dict[str, Any], **fields: Any) -> str:
    """Create a queued run; `fields` are extra run columns (api_key_id, idempotency_key, request_hash)."""
    with rt.db.session() as s:
        run = repo.create_run(s, kind=kind, request=text, profile=rt.profile, seed=seed, session_id=session_id,
                              api_key_id=fields.pop("api_key_id", None))
        out = out_dir or rt.settings.outputs_path / run.id
        repo.update_run(s, run.id, output_dir=str(Path(out).resolve()), info=info, **fields)
        return run.id


def execute_run(rt: Runtime, run_id: str, emit: Emit = lambda e: None,
                cancelled: Callable[[], bool] = lambda: False) -> dict[str, Any]:
    """Run `run_id` to a terminal status, or resume it from its last checkpoint; returns its summary."""
    from agent.graph import build_graph

    options = rt.settings.executor
    executor = Executor(rt.db, rt.store, rt.models, run_id=run_id, emit=emit, cancelled=cancelled,
                        workers=options.workers, batch=options.batch, use_cache=options.cache)
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        repo.update_run(s, run_id, status="running", started_at=run.started_at or datetime.now(UTC))
    config = {"configurable": {"thread_id": run_id}, "recursion_limit": 200}
    try:
        with checkpointer(rt) as saver:
            graph = build_graph(rt, lambda _: executor, checkpointer=saver)
            # A thread with a checkpoint and nodes still to run was interrupted (a crash, a restart):
            # invoking with None continues from that checkpoint instead of starting over.
            pending = graph.get_state(config).next
            graph.invoke(None if pending else {"run_id": run_id}, config)
    except Exception as exc:  # a bug must not take the process down: record it and fail the run
        _log_crash(rt, run_id)
        deliver_run(rt, run_id, status="failed", error=f"internal error: {type(exc).__name__}: {exc}")
    return summarize(rt, run_id)


def _log_crash(rt: Runtime, run_id: str) -> None:
    folder = rt.settings.data_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{run_id}.log").write_text(traceback.format_exc(), encoding="utf-8")
    log.error("run %s crashed; traceback in %s", run_id, folder / f"{run_id}.log")


def summarize(rt: Runtime, run_id: str) -> dict[str, Any]:
    """The run with its steps, assets (winners marked `selected`) and scores, as plain JSON."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        if run is None:
            raise KeyError(run_id)
        scores: dict[str, dict[str, float]] = {}
        for score in repo.list_scores(s, run_id=run_id):
            scores.setdefault(score.asset_id, {})[score.metric] = round(score.value, 3)
        rows = repo.list_steps(s, run_id)
        steps = [{"key": st.key, "tool": st.tool, "status": st.status, "error": st.error, "duration_s": st.duration_s,
                  "rounds": (st.values or {}).get("rounds", 0), "passed": _gate_passed(st.values or {}),
                  "cached": bool((st.values or {}).get("cached"))}
                 for st in rows]
        assets = repo.list_assets(s, run_id=run_id)
        chosen = _selected(rows, assets)
        listed = [{"id": a.id, "role": a.role, "kind": a.kind, "mime": a.mime, "duration": a.duration,
                   "intent": a.intent, "parent": a.parent_id, "selected": chosen.get(a.id),
                   "scores": scores.get(a.id, {})} for a in assets]
        return {**run_header(run), "output_dir": run.output_dir, "plan": run.plan,
                "storyboard_source": run.info.get("storyboard", {}).get("source"),
                "storyboard_notes": run.info.get("storyboard", {}).get("notes", []),
                "steps": steps, "assets": listed}


def run_header(run) -> dict[str, Any]:
    """What a list of runs shows of each: no steps, assets or plan."""
    return {"id": run.id, "kind": run.kind, "status": run.status, "profile": run.profile, "title": run.title,
            "request": run.request, "error": run.error, "session_id": run.session_id,
            "created_at": iso(run.created_at), "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at)}


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _gate_passed(values: dict[str, Any]) -> bool | None:
    """Whether the critic's chosen candidate passed its gate (None: not judged)."""
    if "selected" not in values:
        return None
    return bool(values.get("verdicts", {}).get(values["selected"], {}).get("passed"))


def _selected(steps, assets) -> dict[str, bool | None]:
    """Winners: the critic's choice for revised steps, else the newest asset of each step output."""
    from agent.deliver import family

    picked = {st.key: st.values["selected"] for st in steps if "selected" in (st.values or {})}
    newest = {(family(a.role or ""), a.name): a.id for a in assets if a.kind != "document"}
    chosen: dict[str, bool | None] = {}
    for a in assets:
        step = family(a.role or "")
        chosen[a.id] = None if a.kind == "document" else (
            a.id == picked[step] if step in picked else a.id == newest[(step, a.name)])
    return chosen
