"""Objects of the memory as API responses, looked up on behalf of one key (others' are 404)."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from agent.runtime import Runtime
from agent.service import summarize
from api.errors import not_found
from memory import repo
from memory.models import Asset, ChatSession, Message, Run

_ASSET_ID = re.compile(r"^[0-9a-f]{32}$")


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def owned_run(s: Session, run_id: str, key_id: str) -> Run:
    run = s.get(Run, run_id) if _ASSET_ID.match(run_id) else None
    if run is None or run.api_key_id != key_id:
        raise not_found("run")
    return run


def owned_session(s: Session, session_id: str, key_id: str) -> ChatSession:
    row = s.get(ChatSession, session_id) if _ASSET_ID.match(session_id) else None
    if row is None or row.api_key_id != key_id:
        raise not_found("session")
    return row


def owned_asset(s: Session, asset_id: str, key_id: str) -> Asset:
    asset = s.get(Asset, asset_id) if _ASSET_ID.match(asset_id) else None
    run = s.get(Run, asset.run_id) if asset is not None and asset.run_id else None
    if asset is None or run is None or run.api_key_id != key_id:
        raise not_found("asset")
    return asset


def run_out(rt: Runtime, run_id: str) -> dict[str, Any]:
    summary = summarize(rt, run_id)
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        extra = {"plan": run.plan, "session_id": run.session_id, "started_at": _iso(run.started_at),
                 "finished_at": _iso(run.finished_at)}
    keep = ("id", "kind", "status", "profile", "title", "request", "error", "created_at", "steps", "assets")
    return {**{k: summary[k] for k in keep}, **extra}


def session_out(s: Session, row: ChatSession, messages: list[Message] | None = None) -> dict[str, Any]:
    return {"id": row.id, "title": row.title, "created_at": _iso(row.created_at),
            "messages": [{"role": m.role, "content": m.content, "run_id": m.run_id, "created_at": _iso(m.created_at)}
                         for m in messages or []]}


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
            "intent": asset.intent or "", "created_at": _iso(asset.created_at), "params": params,
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
    return [value] if isinstance(value, str) and _ASSET_ID.match(value) else []
