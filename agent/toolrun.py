"""Running one tool by hand (`storyloom tool run`): for users trying a tool and for debugging.

Arguments may name local files as `"@path/to/file.png"`; they are imported into the asset store
first (as inputs of the run) and replaced by their asset ids. The call is a one-step run, so it is
recorded, cached and traceable like any other.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.assets import store_file
from agent.executor import Executor
from agent.plan import PlanStep
from agent.runtime import Runtime
from memory import repo
from tools.base import ToolError
from tools.registry import get_tool

PLACEHOLDER = "0" * 32


def file_refs(value: Any) -> list[str]:
    """Every `@path` inside the arguments, as written (without the @)."""
    if isinstance(value, dict):
        return [r for v in value.values() for r in file_refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in file_refs(v)]
    return [value[1:]] if isinstance(value, str) and value.startswith("@") else []


def substitute(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: substitute(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, ids) for v in value]
    if isinstance(value, str) and value.startswith("@"):
        return ids.get(value[1:], PLACEHOLDER)
    return value


def check_call(name: str, args: dict[str, Any]) -> None:
    """Raise ToolError for an unknown tool, a missing input file or invalid arguments; touches nothing."""
    tool = get_tool(name)
    for ref in file_refs(args):
        if not Path(ref).expanduser().is_file():
            raise ToolError(f"input file {ref} does not exist")
    tool.parse(substitute(args, {}))


def run_tool(rt: Runtime, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run the tool as a one-step run; returns the step outcome with its assets."""
    with rt.db.session() as s:
        run_id = repo.create_run(s, kind="freeform", request=f"tool {name}", profile=rt.profile, status="running").id
    ids = {ref: _import(rt, run_id, Path(ref).expanduser()) for ref in set(file_refs(args))}
    step = PlanStep(id="tool", tool=name, args=substitute(args, ids))
    outcome = Executor(rt.db, rt.store, rt.models, run_id=run_id).run_step(step, {})
    with rt.db.session() as s:
        repo.update_run(s, run_id, status=outcome.status, error=outcome.error, finished_at=datetime.now(UTC))
        assets = [_describe(rt, repo.get_asset(s, a)) for a in outcome.outputs.values()]
    return {"run_id": run_id, "tool": name, "status": outcome.status, "error": outcome.error,
            "values": outcome.values, "assets": assets}


def _import(rt: Runtime, run_id: str, path: Path) -> str:
    return store_file(rt.db, rt.store, path, run_id=run_id, role=f"input:{path.name}",
                      params={"source": str(path.resolve())})


def _describe(rt: Runtime, asset) -> dict[str, Any]:
    return {"id": asset.id, "kind": asset.kind, "mime": asset.mime, "path": str(rt.store.path(asset.sha256)),
            "size": asset.size, "width": asset.width, "height": asset.height, "duration": asset.duration,
            "model": asset.model_id, "seed": asset.seed}
