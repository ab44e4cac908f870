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
from agent.json_tree import leaves, map_leaves
from agent.plan_schema import PlanStep
from agent.runtime import Runtime
from agent.service.runs import create_run
from memory import repo
from tools.base import ToolError
from tools.registry import get_tool

PLACEHOLDER = "0" * 32


def _is_file_ref(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("@")


def file_refs(value: Any) -> list[str]:
    """Every `@path` inside the arguments, as written (without the @)."""
    return [leaf[1:] for leaf in leaves(value) if _is_file_ref(leaf)]


def substitute(value: Any, ids: dict[str, str]) -> Any:
    """The arguments with each `@path` replaced by its imported asset id (a placeholder id if none)."""
    return map_leaves(value, lambda leaf: ids.get(leaf[1:], PLACEHOLDER) if _is_file_ref(leaf) else leaf)


def check_call(name: str, args: dict[str, Any]) -> None:
    """Raise ToolError for an unknown tool, a missing input file or invalid arguments; touches nothing."""
    tool = get_tool(name)
    for ref in file_refs(args):
        if not Path(ref).expanduser().is_file():
            raise ToolError(f"input file {ref} does not exist")
    tool.parse(substitute(args, {}))


def run_tool(rt: Runtime, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run the tool as a one-step run; returns the step outcome with its assets."""
    run_id = create_run(rt, kind="freeform", request=f"tool {name}")
    with rt.db.session() as s:
        repo.update_run(s, run_id, status="running", started_at=datetime.now(UTC))
    ids = {ref: _import(rt, run_id, Path(ref).expanduser()) for ref in set(file_refs(args))}
    step = PlanStep(id="tool", tool=name, args=substitute(args, ids))
    outcome = rt.executor_for(run_id).run_step(step, {})
    with rt.db.session() as s:
        repo.update_run(s, run_id, status=outcome.status, error=outcome.error, finished_at=datetime.now(UTC))
        assets = [_describe(rt, repo.get_asset(s, a)) for a in outcome.outputs.values()]
        values = repo.get_step(s, run_id, step.id).values or {}  # as recorded: says `cached` on a hit
    return {"run_id": run_id, "tool": name, "status": outcome.status, "error": outcome.error,
            "values": values, "assets": assets}


def _import(rt: Runtime, run_id: str, path: Path) -> str:
    return store_file(rt.db, rt.store, path, run_id=run_id, role=f"input:{path.name}",
                      params={"source": str(path.resolve())})


def _describe(rt: Runtime, asset) -> dict[str, Any]:
    return {"id": asset.id, "kind": asset.kind, "mime": asset.mime, "path": str(rt.store.path(asset.sha256)),
            "size": asset.size, "width": asset.width, "height": asset.height, "duration": asset.duration,
            "model": asset.model_id, "seed": asset.seed}
