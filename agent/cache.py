"""The tool-call cache: the same tool, model (id and revision), arguments and seed give the stored
result instead of a recomputation.

Input assets enter the key by content (their sha256), not by id, so a cached scene image feeds a
cached story video on the next run too. Calls without a fixed seed are never cached (a random
seed asks for something new), nor are tools that make no files (they only return numbers).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.orm import Session

from agent.json_tree import map_leaves
from memory import repo
from memory.db import Database
from memory.tables import is_id
from tools.base import Tool, ToolInput
from tools.engines.tiny import BUILD_VERSION
from tools.model_manager import ModelManager


def call_key(tool: Tool, args: ToolInput, models: ModelManager, db: Database) -> str | None:
    """The cache key of one tool call, or None when the call must not be cached."""
    if not tool.outputs or ("seed" in type(args).model_fields and args.seed is None):
        return None
    model_id, revision = "none", None
    if tool.model_role:
        spec = models.spec(tool.model_role)
        model_id, revision = spec.model_id, (None if spec.source == "tiny" else spec.revision)
        if spec.source == "tiny":  # tiny models change with their builder version
            revision = f"tiny-{BUILD_VERSION}"
    with db.session() as s:
        canonical = _by_content(args.model_dump(mode="json"), s)
    payload = {"tool": tool.name, "model": model_id, "revision": revision, "args": canonical}
    return digest(payload)


def digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _by_content(value: Any, s) -> Any:
    """Replace every asset id inside the arguments with that asset's sha256."""
    def content(leaf: Any) -> Any:
        asset = repo.get_asset(s, leaf) if is_id(leaf) else None
        return f"sha256:{asset.sha256}" if asset else leaf

    return map_leaves(value, content)


def reuse(s: Session, key: str, *, run_id: str, step_row: str | None,
          step_key: str) -> tuple[dict[str, str], dict] | None:
    """Copy the cached call's asset rows into this run (same bytes, new lineage rows pointing at the
    original), inside the caller's transaction; returns (output slot -> new asset id, the original
    step's values), or None on a miss. Only runs of the same API key are searched."""
    originals = repo.find_cached(s, cache_key=key, owner=repo.get_run(s, run_id).api_key_id)
    if not originals:
        return None
    slots = {}
    for old in originals:
        role = f"{step_key}.{old.name}" if step_row else step_key
        row = repo.create_asset(s, **_copy_fields(old), run_id=run_id, step_id=step_row, role=role,
                                params={**(old.params or {}), "cached_from": old.id})
        slots[old.name] = row.id
    step = repo.get_step_by_id(s, originals[0].step_id) if originals[0].step_id else None
    values = {k: v for k, v in (step.values or {}).items() if k not in ("cached", "batched")} if step else {}
    return slots, values


_COPIED = ("tool", "name", "kind", "mime", "sha256", "size", "width", "height", "duration", "model_id",
           "model_revision", "intent", "seed")


def _copy_fields(asset) -> dict[str, Any]:
    return {field: getattr(asset, field) for field in _COPIED}
