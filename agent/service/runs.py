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
from memory import repo
from memory.leases import LeaseLost
from memory.tables import TERMINAL_STATUSES

log = logging.getLogger("storyloom.service")


def create_run(rt: Runtime, *, kind: str, request: str, seed: int = 0, info: dict[str, Any] | None = None,
               out_dir: Path | None = None, session_id: str | None = None, api_key_id: str | None = None,
               idempotency_key: str | None = None, request_hash: str | None = None,
               message: str | None = None) -> str:
    """A queued run of `kind`; `info` is what its planner reads (scenes, a brief, a chat edit...).
    Its outputs go to `out_dir`, by default `<data dir>/outputs/<run id>`. `message` is the user's
    message of a chat turn: it is recorded in the run's session in the same transaction as the run
    (and titles an untitled session), so no crash leaves a turn without its run or the reverse."""
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


def create_story_run(rt: Runtime, request: StoryRequest, **fields: Any) -> str:
    """A story run; `fields` are create_run's keywords (out_dir, session_id, api_key_id...)."""
    return create_run(rt, kind="story", request=request.prompt, seed=request.seed,
                      info={"scenes": request.scenes, **budget_info(request.budget)}, **fields)


def create_freeform_run(rt: Runtime, request: FreeformRequest, **fields: Any) -> str:
    """A free-form run for the planner; `fields` are create_run's keywords."""
    return create_run(rt, kind="freeform", request=request.request, seed=request.seed,
                      info={"scenes": 3, **budget_info(request.budget)}, **fields)


def create_brief_run(rt: Runtime, brief: Brief, *, seed: int | None = None, **fields: Any) -> str:
    """A brief run; the brief is kept in the run's info, where planning reads it."""
    return create_run(rt, kind="brief", request=brief.goal, seed=brief.seed if seed is None else seed,
                      info={"brief": brief.model_dump(mode="json"), **budget_info(brief.budget)}, **fields)


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
        elif not decided:
            _run_graph(rt, run_id, emit, cancelled)
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


def _run_graph(rt: Runtime, run_id: str, emit: Emit, cancelled: Callable[[], bool]) -> None:
    config = {"configurable": {"thread_id": run_id, "runtime": rt, "emit": emit, "cancelled": cancelled},
              "recursion_limit": 200}
    with checkpointer(rt) as saver:
        graph = build_graph(checkpointer=saver)
        # A thread with a checkpoint and nodes still to run was interrupted (a crash, a restart):
        # invoking with None continues from that checkpoint instead of starting over.
        pending = graph.get_state(config).next
        graph.invoke(None if pending else {"run_id": run_id}, config)


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
