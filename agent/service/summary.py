"""A run as plain JSON: its header for lists, and the whole summary with steps, assets and scores."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from agent.deliver import family
from agent.recipes.story_checks import run_adherence
from agent.runtime import Runtime
from agent.service.cost import run_cost
from agent.webhooks import outbox
from memory import repo


def summarize(rt: Runtime, run_id: str) -> dict[str, Any]:
    """The run with its steps, assets (winners marked `selected`), scores and cost, as plain JSON."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        if run is None:
            raise KeyError(run_id)
        scores: dict[str, dict[str, float]] = {}
        for score in repo.list_scores(s, run_id=run_id):
            scores.setdefault(score.asset_id, {})[score.metric] = round(score.value, 3)
        rows = repo.list_steps(s, run_id)
        steps = [{"key": st.key, "tool": st.tool, "status": st.status, "error": st.error, "duration_s": st.duration_s,
                  "rounds": (st.values or {}).get("rounds", 0), "passed": _gate_passed(st.values or {}),
                  "cached": bool((st.values or {}).get("cached"))}
                 for st in rows]
        assets = repo.list_assets(s, run_id=run_id)
        chosen = _selected(rows, assets)
        listed = [{"id": a.id, "role": a.role, "kind": a.kind, "mime": a.mime, "duration": a.duration,
                   "intent": a.intent, "parent": a.parent_id, "selected": chosen.get(a.id),
                   "scores": scores.get(a.id, {})} for a in assets]
        return {**run_header(run), "output_dir": run.output_dir, "plan": run.plan,
                "storyboard_source": run.info.get("storyboard", {}).get("source"),
                "storyboard_notes": run.info.get("storyboard", {}).get("notes", []),
                "adherence": run_adherence(run.request, run.info.get("storyboard", {})),
                "capability": run.info.get("capability"),
                "steps": steps, "steps_reused": sum(st["cached"] for st in steps), "assets": listed,
                "cost": run_cost(s, run, rows, assets), "webhook": webhook_view(s, run)}


def webhook_view(s: Session, run) -> dict[str, Any] | None:
    """Where the run's webhook stands: None when it asked for none; `waiting` until the run ends, then the
    outbox row's pending, delivered or failed with its attempts."""
    url = (run.info or {}).get(outbox.INFO_KEY)
    if not url:
        return None
    delivery = repo.get_delivery(s, run.id)
    if delivery is None:
        return {"id": None, "url": url, "status": "waiting", "attempts": 0, "last_status": None, "last_error": None,
                "next_attempt_at": None, "delivered_at": None}
    return {"id": outbox.webhook_id(delivery.id), "url": url, "status": delivery.status,
            "attempts": delivery.attempts, "last_status": delivery.last_status, "last_error": delivery.last_error,
            "next_attempt_at": iso(delivery.next_at) if delivery.status == "pending" else None,
            "delivered_at": iso(delivery.delivered_at)}


def run_header(run) -> dict[str, Any]:
    """What a list of runs shows of each: no steps, assets or plan."""
    return {"id": run.id, "kind": run.kind, "status": run.status, "profile": run.profile, "title": run.title,
            "request": run.request, "error": run.error, "session_id": run.session_id,
            "created_at": iso(run.created_at), "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at)}


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _gate_passed(values: dict[str, Any]) -> bool | None:
    """Whether the critic's chosen candidate passed its gate (None: not judged)."""
    if "selected" not in values:
        return None
    return bool(values.get("verdicts", {}).get(values["selected"], {}).get("passed"))


def _selected(steps, assets) -> dict[str, bool | None]:
    """Winners: the critic's choice for revised steps, else the newest asset of each step output."""
    picked = {st.key: st.values["selected"] for st in steps if "selected" in (st.values or {})}
    newest = {(family(a.role or ""), a.name): a.id for a in assets if a.kind != "document"}
    chosen: dict[str, bool | None] = {}
    for a in assets:
        step = family(a.role or "")
        chosen[a.id] = None if a.kind == "document" else (
            a.id == picked[step] if step in picked else a.id == newest[(step, a.name)])
    return chosen
