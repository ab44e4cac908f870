"""Runs: created from a validated request (queued, not executed), then executed to a terminal status.

Every kind starts here: stories, free-form requests, briefs and narration jobs. Story, free-form and
brief runs go through the LangGraph graph (plan, execute, critique, deliver); a narration job walks
its library item by item with the same runtime, executor factory and LLM recording. Whatever goes
wrong inside a run ends as a failed run with a reason (and the traceback in the data dir's log folder
for programming errors); nothing escapes to kill the caller.
"""
from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent import review
from agent.cast_bank import save_cast
from agent.checkpoint import checkpointer
from agent.deliver import deliver_run
from agent.executor import Emit
from agent.graph import build_graph
from agent.narrate.run import NarrationJob, narrate_job
from agent.recipes.brief import Brief
from agent.requests import FreeformRequest, StoryRequest
from agent.runtime import Runtime
from agent.service import events
from agent.service.budget import Meter, budget_info
from agent.service.summary import summarize
from agent.webhooks import outbox
from memory import repo
from memory.leases import LeaseLost
from memory.tables import TERMINAL_STATUSES

log = logging.getLogger("storyloom.service")


def create_run(rt: Runtime, *, kind: str, request: str, seed: int = 0, info: dict[str, Any] | None = None,
               out_dir: Path | None = None, session_id: str | None = None, api_key_id: str | None = None,
               idempotency_key: str | None = None, request_hash: str | None = None,
               message: str | None = None, webhook_url: str | None = None) -> str:
    """A queued run of `kind`; `info` is what its planner reads (scenes, a brief, a chat edit...).
    Its outputs go to `out_dir`, by default `<data dir>/outputs/<run id>`. `message` is the user's
    message of a chat turn: it is recorded in the run's session in the same transaction as the run
    (and titles an untitled session), so no crash leaves a turn without its run or the reverse.
    `webhook_url` (checked by the caller) gets the run's summary, signed, when the run ends."""
    info = {**(info or {}), outbox.INFO_KEY: webhook_url} if webhook_url else info
    with rt.db.session() as s:
        run = repo.create_run(s, kind=kind, request=request, profile=rt.profile, seed=seed, session_id=session_id,
                              api_key_id=api_key_id)
        out = out_dir or rt.settings.outputs_path / run.id
        repo.update_run(s, run.id, output_dir=str(Path(out).resolve()), info=info or {},
                        idempotency_key=idempotency_key, request_hash=request_hash)
        if message is not None and session_id is not None:
            repo.add_message(s, session_id=session_id, role="user", content=message, run_id=run.id)
            if not repo.get_session(s, session_id).title:
                repo.update_session(s, session_id, title=message[:80])
        return run.id


def create_story_run(rt: Runtime, request: StoryRequest, *, extra_info: dict[str, Any] | None = None,
                     **fields: Any) -> str:
    """A story run; `extra_info` adds to its info (a session's pinned `style`); `fields` are create_run's
    keywords (out_dir, session_id, api_key_id...)."""
    return create_run(rt, kind="story", request=request.prompt, seed=request.seed,
                      info={"scenes": request.scenes, **budget_info(request.budget), **_review(request.review),
                            **({"save_cast": request.save_cast} if request.save_cast else {}),
                            **(extra_info or {})}, **fields)


def create_freeform_run(rt: Runtime, request: FreeformRequest, *, extra_info: dict[str, Any] | None = None,
                        **fields: Any) -> str:
    """A free-form run for the planner; `extra_info` and `fields` as for create_story_run."""
    return create_run(rt, kind="freeform", request=request.request, seed=request.seed,
                      info={"scenes": 3, **budget_info(request.budget), **_review(request.review),
                            **(extra_info or {})}, **fields)


def create_brief_run(rt: Runtime, brief: Brief, *, seed: int | None = None, **fields: Any) -> str:
    """A brief run; the brief is kept in the run's info, where planning reads it."""
    return create_run(rt, kind="brief", request=brief.goal, seed=brief.seed if seed is None else seed,
                      info={"brief": brief.model_dump(mode="json"), **budget_info(brief.budget),
                            **_review(any(getattr(d, "review", False) for d in brief.deliverables))}, **fields)


def _review(asked: bool) -> dict[str, bool]:
    """The run info's review flag: a run asked with it pauses after planning (agent.review)."""
    return {"review": True} if asked else {}


def create_narration_run(rt: Runtime, job: NarrationJob, **fields: Any) -> str:
    """A narration job over `job.paths` (inside `job.roots`); `fields` are create_run's keywords."""
    text = "narrate " + ", ".join(Path(p).name for p in job.paths)
    return create_run(rt, kind="narration", request=text[:500], info={"narration": job.as_info()}, **fields)


def execute_run(rt: Runtime, run_id: str, emit: Emit = lambda e: None,
                cancelled: Callable[[], bool] = lambda: False, *, end: bool = True) -> dict[str, Any]:
    """Run `run_id` to a terminal status, or resume it from its last checkpoint; returns its summary.

    The work ends with a verdict in the run's info; with `end` the run then ends here (its status and
    terminal event stored together, the event passed to `emit`). The server's runner passes
    end=False and ends the run itself, with the chat reply in the same transaction."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        kind, decided, limits = run.kind, "verdict" in (run.info or {}), (run.info or {}).get("budget")
        if not decided:
            repo.update_run(s, run_id, status="running", started_at=run.started_at or datetime.now(UTC))
    meter = Meter(rt, run_id, limits, emit, cancelled) if limits and not decided else None
    if meter is not None:
        emit, cancelled = meter.emit, meter.cancelled
    try:
        if kind == "narration" and not decided:  # decided: delivered just before a crash, only the end is missing
            narrate_job(rt, run_id, emit=emit, cancelled=cancelled)
        elif not decided and (paused := _run_graph(rt, run_id, emit, cancelled)) is not None:
            _pause(rt, run_id, paused, emit)
            return summarize(rt, run_id)
        elif not decided:
            save_cast(rt, run_id)  # when the request asked for it and the story succeeded
    except LeaseLost:  # another worker holds the run now: this one writes nothing more for it
        raise
    except Exception as exc:  # a bug must not take the process down: record it and fail the run
        _log_crash(rt, run_id)
        deliver_run(rt, run_id, status="failed", error=f"internal error: {type(exc).__name__}: {exc}")
    if meter is not None and meter.exceeded():  # past a limit: failed, keeping what it made
        with rt.db.session() as s:
            repo.set_verdict(s, run_id, status="failed", error=meter.exceeded())
    if end:
        stored = events.finish(rt.db, run_id, *outcome(rt, run_id))
        if stored is not None:
            emit(stored)
    return summarize(rt, run_id)


def outcome(rt: Runtime, run_id: str) -> tuple[str, str | None]:
    """How a run ends: its verdict, else the final status it already has, else failed."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        verdict = (run.info or {}).get("verdict")
        if verdict:
            return verdict["status"], verdict.get("error")
        if run.status in TERMINAL_STATUSES:
            return run.status, run.error
        return "failed", run.error or "the run ended without a result"


def _run_graph(rt: Runtime, run_id: str, emit: Emit, cancelled: Callable[[], bool]) -> dict[str, Any] | None:
    """Run the graph; the storyboard it paused on for review, or None when it ran to its end."""
    from langgraph.types import Command

    config = {"configurable": {"thread_id": run_id, "runtime": rt, "emit": emit, "cancelled": cancelled},
              "recursion_limit": 200}
    with checkpointer(rt) as saver:
        graph = build_graph(checkpointer=saver)
        # A thread with a checkpoint and nodes still to run was interrupted (a crash, a restart):
        # invoking with None continues from that checkpoint instead of starting over; a thread paused
        # for review continues with the approved storyboard.
        state = graph.get_state(config)
        if state.interrupts:
            approved = review.approved_board(rt, run_id)
            start: Any = Command(resume=approved) if approved is not None else None
        else:
            start = None if state.next else {"run_id": run_id, "review": _asks_review(rt, run_id)}
        if start is None and state.interrupts:  # started again while still awaiting review
            return state.interrupts[0].value["storyboard"]
        result = graph.invoke(start, config)
    paused = result.get("__interrupt__") if isinstance(result, dict) else None
    return paused[0].value["storyboard"] if paused else None


def _asks_review(rt: Runtime, run_id: str) -> bool:
    with rt.db.session() as s:
        return bool((repo.get_run(s, run_id).info or {}).get("review"))


def _pause(rt: Runtime, run_id: str, board: dict[str, Any], emit: Emit) -> None:
    """The run waits for its reviewer: status awaiting_review and the event carrying the storyboard."""
    if review.record_pause(rt, run_id, board):
        emit({"type": review.AWAITING, "status": review.AWAITING, "storyboard": board})


def _log_crash(rt: Runtime, run_id: str) -> None:
    folder = rt.settings.data_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{run_id}.log").write_text(traceback.format_exc(), encoding="utf-8")
    log.error("run %s crashed; traceback in %s", run_id, folder / f"{run_id}.log")


def narrate_library(rt: Runtime, paths: list[Path], out_dir: Path, *, resume: bool = False,
                    progress: Emit = lambda e: None) -> dict[str, Any] | None:
    """Describe a library in this process (the CLI's way): a narration run over `paths` (also its roots)
    executed at once; returns its report, or None when the job ended before writing one."""
    job = NarrationJob(paths=list(paths), roots=list(paths), resume=resume)
    run_id = create_narration_run(rt, job, out_dir=out_dir)
    execute_run(rt, run_id, emit=progress)
    return read_report(out_dir)


def read_report(out_dir: Path) -> dict[str, Any] | None:
    """A narration job's report.json (None when missing or unreadable)."""
    try:
        data = json.loads((Path(out_dir) / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
