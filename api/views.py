"""Objects of the memory as API responses, looked up on behalf of one key (others' are 404)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy.orm import Session

from agent.json_tree import leaves
from agent.runtime import Runtime
from agent.service.summary import iso, summarize, webhook_view
from api.errors import not_found
from memory import repo
from memory.tables import TERMINAL_STATUSES, Asset, ChatSession, Run, is_id

# Views of finished runs, which no longer change: a run's detail was the costliest read under load
# (summarize: four queries and a dict per step and asset, issue 18). A run counts as finished once its
# terminal event is stored, the runner's very last write (a narration job registers its outputs after
# its status is final, before that event).
_FINISHED: OrderedDict[tuple[str, str], tuple[str | None, dict[str, Any]]] = OrderedDict()
_FINISHED_LOCK = threading.Lock()
FINISHED_VIEWS = 4096


def owned_run(s: Session, run_id: str, key_id: str) -> Run:
    """The key's run, else 404 (another key's run is as missing as one that never was)."""
    run = repo.get_run(s, run_id, owner=key_id)
    if run is None:
        raise not_found("run")
    return run


def owned_session(s: Session, session_id: str, key_id: str) -> ChatSession:
    row = repo.get_session(s, session_id, owner=key_id)
    if row is None:
        raise not_found("session")
    return row


def owned_asset(s: Session, asset_id: str, key_id: str) -> Asset:
    asset = repo.get_asset(s, asset_id, owner=key_id)
    if asset is None:
        raise not_found("asset")
    return asset


def run_out(rt: Runtime, run_id: str, owner: str | None = None) -> dict[str, Any]:
    """The run as the API shows it: the summary without the server's own paths and story notes. With
    `owner`, another key's run (or none) is a 404. The result is shared: do not change it."""
    key = (rt.db.url, run_id)
    with _FINISHED_LOCK:
        cached = _FINISHED.get(key)
    if cached is not None:
        if owner is not None and cached[0] != owner:
            raise not_found("run")
        return _fresh_webhook(rt, run_id, cached[1])
    with rt.db.session() as s:
        run = owned_run(s, run_id, owner) if owner is not None else repo.get_run(s, run_id)
        finished, owner_of = _finished(s, run), run.api_key_id if run else None
    hidden = ("output_dir", "storyboard_source", "storyboard_notes")
    view = {k: v for k, v in summarize(rt, run_id).items() if k not in hidden}
    if finished:
        with _FINISHED_LOCK:
            _FINISHED[key] = (owner_of, view)
            while len(_FINISHED) > FINISHED_VIEWS:
                _FINISHED.popitem(last=False)
    return view


def _fresh_webhook(rt: Runtime, run_id: str, view: dict[str, Any]) -> dict[str, Any]:
    """A finished run's view with its webhook's delivery status as it is now (the rest does not change)."""
    if view.get("webhook") is None:
        return view
    with rt.db.session() as s:
        return {**view, "webhook": webhook_view(s, repo.get_run(s, run_id))}


def webhook_body(rt: Runtime, run_id: str) -> dict[str, Any]:
    """What a run's webhook carries: the run as GET /v1/runs/{id} shows it, less the delivery's own status."""
    return {k: v for k, v in run_out(rt, run_id).items() if k != "webhook"}


def _finished(s: Session, run: Run | None) -> bool:
    return run is not None and run.status in TERMINAL_STATUSES and repo.has_terminal_event(s, run.id)


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
    return [leaf for leaf in leaves(value) if is_id(leaf)]
