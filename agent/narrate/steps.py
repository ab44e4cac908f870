"""Model work of a narration job goes through the executor as steps of the job's run, so every call is
recorded with its lineage and answered from the tool-call cache when it was made before."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.assets import asset_kind, guess_mime, store_file
from agent.executor import Executor, StepOutcome
from agent.narrate.types import NarrationContext
from agent.plan_schema import PlanStep
from memory import repo
from tools.base import ToolError

_MEDIA = ("image", "audio", "video")


def import_file(ctx: NarrationContext, path: Path, role: str, kind: str | None = None) -> str:
    """Store a library file as an input asset of the job; returns its asset id. `kind` is the kind
    found by reading the content, which wins over the file name's extension."""
    mime = guess_mime(path)
    kind = kind or asset_kind(mime)
    if kind in _MEDIA and not mime.startswith(kind + "/"):
        mime = f"{kind}/{path.suffix.lstrip('.').lower() or 'unknown'}"
    return store_file(ctx.rt.db, ctx.rt.store, path, run_id=ctx.run_id, role=role, mime=mime, kind=kind,
                      params={"source": str(path)})


def call_tool(ctx: NarrationContext, step_id: str, tool: str, args: dict[str, Any]) -> StepOutcome:
    """Run one tool as step `step_id` of the job's run; raises ToolError when the step fails."""
    if ctx.cancelled():
        raise ToolError("cancelled")
    outcome = executor(ctx).run_step(PlanStep(id=step_id, tool=tool, args=args), {})
    if outcome.status != "succeeded":
        raise ToolError(outcome.error or f"{tool} failed")
    return outcome


def executor(ctx: NarrationContext) -> Executor:
    """An executor running steps of the job's run (recorded, cached when the settings allow)."""
    return ctx.rt.executor_for(ctx.run_id, cancelled=ctx.cancelled)


def asset_path(ctx: NarrationContext, asset_id: str) -> Path:
    """Where an asset's bytes are in the store."""
    with ctx.rt.db.session() as s:
        return ctx.rt.store.path(repo.get_asset(s, asset_id).sha256)
