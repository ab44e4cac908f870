"""What a run cost: seconds per model role, model calls, cache hits and the critic's share of its time.

Read back from what the run recorded: each step's tool (its model role), duration and whether the cache
answered it; each LLM answer (asked, or reused from an identical earlier call) with its seconds; the
critic's scoring time (`info["critic_s"]`, added by agent.critic); the run's start and end. Independent
steps run in parallel, so the roles' seconds may add up to more than the run's.
"""
from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from memory import repo
from tools.base import ToolError
from tools.registry import get_tool


@cache
def model_role(tool: str) -> str | None:
    """The profile role whose model a tool runs (None: no model, e.g. composing a video)."""
    try:
        return get_tool(tool).model_role
    except ToolError:
        return None


def run_cost(s: Session, run: Any, steps: list | None = None, assets: list | None = None) -> dict[str, Any]:
    """The run's cost so far (for a finished run: in all); `steps` and `assets` when already read."""
    steps = repo.list_steps(s, run.id) if steps is None else steps
    assets = repo.list_assets(s, run_id=run.id) if assets is None else assets
    by_role: dict[str, float] = {}
    calls = hits = 0
    for step in steps:
        if (step.values or {}).get("cached"):
            hits += 1
        elif step.status in ("succeeded", "failed") and (role := model_role(step.tool)):
            calls += 1
            by_role[role] = by_role.get(role, 0.0) + (step.duration_s or 0.0)
    for answer in (a for a in assets if a.tool == "llm"):
        if "cached_from" in (answer.params or {}):
            hits += 1
        else:
            calls += 1
            by_role["llm"] = by_role.get("llm", 0.0) + float((answer.params or {}).get("seconds", 0.0))
    seconds = elapsed(run)
    critic = float((run.info or {}).get("critic_s", 0.0))
    return {"seconds": round(seconds, 3), "seconds_by_role": {k: round(v, 3) for k, v in sorted(by_role.items())},
            "model_calls": calls, "cache_hits": hits, "critic_seconds": round(critic, 3),
            "critic_share": round(min(critic / seconds, 1.0), 3) if seconds > 0 else 0.0}


def elapsed(run: Any) -> float:
    """Seconds from the run's start to its end (to now while it runs; 0 before it starts)."""
    if run.started_at is None:
        return 0.0
    return max(0.0, ((run.finished_at or datetime.now(UTC)) - run.started_at).total_seconds())
