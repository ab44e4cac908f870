"""The executor: runs a plan's steps as their inputs become ready and records everything they make.

Each step's artifacts go into the content-addressed store and the `assets` table with full lineage;
a `ToolError` marks the step failed with its message (the run decides what that means). A step that
already succeeded in this run (a resumed run) is not redone: its recorded outputs are reused.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.plan import Plan, PlanStep, dependencies, resolve_refs
from memory import repo
from memory.db import Database
from memory.store import AssetStore
from tools.base import Artifact, AssetView, ToolContext, ToolError, ToolResult, get_tool
from tools.models import ModelManager

Emit = Callable[[dict[str, Any]], None]


@dataclass
class StepOutcome:
    step_id: str
    status: str  # succeeded | failed
    outputs: dict[str, str] = field(default_factory=dict)  # output slot -> asset id
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class Executor:
    """Runs steps of one run against one database, asset store and model manager."""

    def __init__(self, db: Database, store: AssetStore, models: ModelManager, *, run_id: str,
                 emit: Emit = lambda e: None, cancelled: Callable[[], bool] = lambda: False):
        self.db, self.store, self.models, self.run_id = db, store, models, run_id
        self.emit, self.cancelled = emit, cancelled
        self.ctx = ToolContext(models=models, resolve=self.asset_view, cancelled=cancelled)

    def ready(self, plan: Plan, outputs: dict[str, dict[str, str]]) -> list[PlanStep]:
        """Steps not yet done whose dependencies all are."""
        return [s for s in plan.steps if s.id not in outputs and dependencies(s) <= outputs.keys()]

    def run_wave(self, plan: Plan, outputs: dict[str, dict[str, str]]) -> list[StepOutcome]:
        """Run every step that is ready now; stops at the first failure."""
        results = []
        for step in self.ready(plan, outputs):
            if self.cancelled():
                break
            outcome = self.run_step(step, outputs)
            results.append(outcome)
            if outcome.status == "failed":
                break
        return results

    def run_step(self, step: PlanStep, outputs: dict[str, dict[str, str]]) -> StepOutcome:
        row_id, previous = self._step_row(step)
        if previous is not None:
            return previous
        self.emit({"type": "step", "step": step.id, "tool": step.tool, "status": "running"})
        started = time.perf_counter()
        try:
            tool = get_tool(step.tool)
            args = tool.parse(resolve_refs(step.args, outputs))
            result = tool.run(args, self.ctx)
            outcome = StepOutcome(step.id, "succeeded", self._record(step, row_id, args, result), result.values)
        except ToolError as exc:
            outcome = StepOutcome(step.id, "failed", error=str(exc))
        except KeyError as exc:  # a $ref to an output that does not exist
            outcome = StepOutcome(step.id, "failed", error=f"missing input {exc}")
        self._finish(row_id, outcome, time.perf_counter() - started)
        self.emit({"type": "step", "step": step.id, "tool": step.tool, "status": outcome.status,
                   "error": outcome.error, "duration": round(time.perf_counter() - started, 3)})
        return outcome

    def asset_view(self, asset_id: str) -> AssetView:
        with self.db.session() as s:
            row = repo.get_asset(s, asset_id)
            if row is None:
                raise KeyError(asset_id)
            return AssetView(id=row.id, path=self.store.path(row.sha256), kind=row.kind, mime=row.mime,
                             intent=row.intent, duration=row.duration, width=row.width, height=row.height,
                             params=dict(row.params or {}))

    def _step_row(self, step: PlanStep) -> tuple[str, StepOutcome | None]:
        """The step's row (created if new) and, when it already succeeded, its recorded outcome."""
        with self.db.session() as s:
            row = repo.get_step(s, self.run_id, step.id)
            if row is None:
                row = repo.create_step(s, run_id=self.run_id, key=step.id, tool=step.tool, args=step.args,
                                       intent=step.intent)
            elif row.status == "succeeded":
                slots = {a.name: a.id for a in repo.list_assets(s, run_id=self.run_id) if a.step_id == row.id}
                return row.id, StepOutcome(step.id, "succeeded", slots, dict(row.values or {}))
            repo.update_step(s, row.id, status="running", started_at=datetime.now(UTC), error=None)
            return row.id, None

    def _record(self, step: PlanStep, step_row: str, args: Any, result: ToolResult) -> dict[str, str]:
        """Store each artifact's bytes and its lineage row; returns output slot -> asset id."""
        slots = {}
        with self.db.session() as s:
            for art in result.artifacts:
                sha, _ = self.store.put(art.data)
                row = repo.create_asset(s, **self._lineage(step, step_row, args, result, art), sha256=sha)
                slots[art.name] = row.id
        return slots

    def _lineage(self, step: PlanStep, step_row: str, args: Any, result: ToolResult, art: Artifact) -> dict:
        seed = getattr(args, "seed", None)
        return dict(
            run_id=self.run_id, step_id=step_row, tool=step.tool, name=art.name, role=f"{step.id}.{art.name}",
            kind=art.kind, mime=art.mime, size=len(art.data), width=art.width, height=art.height,
            duration=art.duration, model_id=result.model_id, model_revision=result.model_revision,
            intent=art.intent or step.intent, seed=art.params.get("seed", seed),
            params={"args": args.model_dump(mode="json"), **art.params},
        )

    def _finish(self, row_id: str, outcome: StepOutcome, duration: float) -> None:
        with self.db.session() as s:
            repo.update_step(s, row_id, status=outcome.status, error=outcome.error, values=outcome.values,
                             finished_at=datetime.now(UTC), duration_s=round(duration, 3))
