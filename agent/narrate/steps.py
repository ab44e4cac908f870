"""Model work of a narration job goes through the executor as steps of the job's run, so every call is
recorded with its lineage and answered from the tool-call cache when it was made before."""
from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from agent.executor import Executor, StepOutcome
from agent.narrate.types import NarrationContext
from agent.plan import PlanStep
from memory import repo
from tools.base import ToolError

_KINDS = {"image": "image", "audio": "audio", "video": "video"}


def import_file(ctx: NarrationContext, path: Path, role: str, kind: str | None = None) -> str:
    """Store a library file as an input asset of the job; returns its asset id. `kind` is the kind
    found by reading the content, which wins over the file name's extension."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    kind = kind or _KINDS.get(mime.split("/")[0], "document")
    if not mime.startswith(kind + "/") and kind in _KINDS:
        mime = f"{kind}/{path.suffix.lstrip('.').lower() or 'unknown'}"
    sha, stored = ctx.rt.store.put_file(path)
    with ctx.rt.db.session() as s:
        return repo.create_asset(s, run_id=ctx.run_id, tool="import", name="input", role=role, kind=kind,
                                 mime=mime, sha256=sha, size=stored.stat().st_size,
                                 params={"source": str(path)}).id


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
    return Executor(ctx.rt.db, ctx.rt.store, ctx.rt.models, run_id=ctx.run_id, cancelled=ctx.cancelled,
                    use_cache=ctx.rt.settings.executor.cache)


def asset_path(ctx: NarrationContext, asset_id: str) -> Path:
    """Where an asset's bytes are in the store."""
    with ctx.rt.db.session() as s:
        return ctx.rt.store.path(repo.get_asset(s, asset_id).sha256)
