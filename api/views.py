"""Objects of the memory as API responses, looked up on behalf of one key (others' are 404)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from agent.runtime import Runtime
from agent.service import iso, summarize
from api.errors import not_found
from memory import repo
from memory.models import Asset, ChatSession, Run, is_id


def owned_run(s: Session, run_id: str, key_id: str) -> Run:
    run = s.get(Run, run_id) if is_id(run_id) else None
    if run is None or run.api_key_id != key_id:
        raise not_found("run")
    return run


def owned_session(s: Session, session_id: str, key_id: str) -> ChatSession:
    row = s.get(ChatSession, session_id) if is_id(session_id) else None
    if row is None or row.api_key_id != key_id:
        raise not_found("session")
    return row


def owned_asset(s: Session, asset_id: str, key_id: str) -> Asset:
    asset = s.get(Asset, asset_id) if is_id(asset_id) else None
    run = s.get(Run, asset.run_id) if asset is not None and asset.run_id else None
    if asset is None or run is None or run.api_key_id != key_id:
        raise not_found("asset")
    return asset


def run_out(rt: Runtime, run_id: str, owner: str | None = None) -> dict[str, Any]:
    """The run as the API shows it: the summary without the server's own paths and story notes. With
    `owner`, another key's run (or none) is a 404."""
    if owner is not None:
        with rt.db.session() as s:
            owned_run(s, run_id, owner)
    hidden = ("output_dir", "storyboard_source", "storyboard_notes")
    return {k: v for k, v in summarize(rt, run_id).items() if k not in hidden}


def asset_out(s: Session, asset: Asset) -> dict[str, Any]:
    params = dict(asset.params or {})
    step = repo.get_step_by_id(s, asset.step_id) if asset.step_id else None
    lineage = {"run_id": asset.run_id, "step": step.key if step else None, "tool": asset.tool,
               "model_id": asset.model_id, "model_revision": asset.model_revision, "seed": asset.seed,
               "parents": _parents(s, asset), "inputs": sorted(set(_ids(params.get("args")))),
               "cached_from": params.get("cached_from")}
    scores = [{"metric": sc.metric, "value": sc.value, "model_id": sc.model_id, "details": dict(sc.details or {})}
              for sc in repo.list_scores(s, asset_id=asset.id)]
    return {"id": asset.id, "kind": asset.kind, "mime": asset.mime, "size": asset.size, "sha256": asset.sha256,
            "role": asset.role, "width": asset.width, "height": asset.height, "duration": asset.duration,
            "intent": asset.intent or "", "created_at": iso(asset.created_at), "params": params,
            "lineage": lineage, "scores": scores}


def _parents(s: Session, asset: Asset) -> list[str]:
    chain, seen = [], {asset.id}
    current = asset
    while current.parent_id and current.parent_id not in seen:
        chain.append(current.parent_id)
        seen.add(current.parent_id)
        current = repo.get_asset(s, current.parent_id)
        if current is None:
            break
    return chain


def _ids(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [i for v in value.values() for i in _ids(v)]
    if isinstance(value, list):
        return [i for v in value for i in _ids(v)]
    return [value] if is_id(value) else []
