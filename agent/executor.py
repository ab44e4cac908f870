"""The executor: runs a plan's steps as their inputs become ready and records everything they make.

One wave = every step whose inputs are ready. Within a wave, steps of the same tool and model whose
arguments allow it are merged into one batched model call (four scene images, one diffusion call,
each with its own seed), and independent groups run concurrently on a small thread pool. A call
identical to an earlier one (same tool, model, arguments, seed) reuses the stored result. Each
artifact goes into the content-addressed store and the `assets` table with full lineage; a
`ToolError` marks its step failed with the message. A step that already succeeded in this run (a
resumed run) is not redone.
"""
from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent import cache
from agent.model_backend import LocalBackend, ModelBackend
from agent.plan_schema import Plan, PlanStep, dependencies, iter_value_refs, resolve_refs
from memory import repo
from memory.db import Database
from memory.store import AssetStore
from tools.base import Artifact, AssetView, Tool, ToolContext, ToolError, ToolInput, ToolResult
from tools.model_manager import ModelManager
from tools.registry import get_tool

Emit = Callable[[dict[str, Any]], None]


@dataclass
class StepOutcome:
    step_id: str
    status: str  # succeeded | failed
    outputs: dict[str, str] = field(default_factory=dict)  # output slot -> asset id
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class _Call:
    """A step whose arguments are resolved and valid, waiting to run."""

    step: PlanStep
    row_id: str
    tool: Tool
    args: ToolInput
    key: str | None


class Executor:
    """Runs steps of one run against one database, asset store and model manager."""

    def __init__(self, db: Database, store: AssetStore, models: ModelManager, *, run_id: str,
                 emit: Emit = lambda e: None, cancelled: Callable[[], bool] = lambda: False,
                 workers: int = 2, batch: bool = True, use_cache: bool = True, backend: ModelBackend | None = None):
        self.db, self.store, self.models, self.run_id = db, store, models, run_id
        self.backend = backend or LocalBackend()
        self.emit, self.cancelled = emit, cancelled
        self.workers, self.batch, self.use_cache = workers, batch, use_cache
        self.ctx = ToolContext(models=models, resolve=self.asset_view, cancelled=cancelled)

    def ready(self, plan: Plan, outputs: dict[str, dict[str, str]]) -> list[PlanStep]:
        """Steps not yet done whose dependencies all are."""
        return [s for s in plan.steps if s.id not in outputs and dependencies(s) <= outputs.keys()]

    def run_wave(self, plan: Plan, outputs: dict[str, dict[str, str]]) -> list[StepOutcome]:
        """Run every step that is ready now: batched where possible, independent groups in parallel."""
        outcomes: list[StepOutcome] = []
        calls: list[_Call] = []
        for step in self.ready(plan, outputs):
            if self.cancelled():
                break
            prepared = self._prepare(step, outputs)
            (outcomes if isinstance(prepared, StepOutcome) else calls).append(prepared)
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="step") as pool:
            # Each group runs in a copy of this thread's context: it carries the run's lease (memory/leases.py).
            futures = [pool.submit(contextvars.copy_context().run, self._run_group, g) for g in self._groups(calls)]
            for future in futures:
                outcomes.extend(future.result())
        return outcomes

    def run_step(self, step: PlanStep, outputs: dict[str, dict[str, str]]) -> StepOutcome:
        """Run one step on its own (used by `storyloom tool run`)."""
        prepared = self._prepare(step, outputs)
        return prepared if isinstance(prepared, StepOutcome) else self._run_group([prepared])[0]

    def call(self, tool: Tool, args: ToolInput) -> ToolResult:
        """One tool call outside any step (the critic's scores), on this executor's model backend."""
        return self.backend.run(tool, [args], self.ctx)[0]

    def asset_view(self, asset_id: str) -> AssetView:
        """An asset a step may read: one of a run of this run's own key (issue 19: a plan naming another
        key's asset id, as an LLM may write, gets the same "does not exist" as an unknown id)."""
        with self.db.session() as s:
            row = repo.get_asset_for_run(s, asset_id, self.run_id)
            if row is None:
                raise KeyError(asset_id)
            return AssetView(id=row.id, path=self.store.path(row.sha256), kind=row.kind, mime=row.mime,
                             intent=row.intent, duration=row.duration, width=row.width, height=row.height,
                             params=dict(row.params or {}))

    def _prepare(self, step: PlanStep, outputs: dict[str, dict[str, str]]) -> StepOutcome | _Call:
        """Resolve and validate a step's arguments; answer it from the cache when possible."""
        row_id, previous = self._step_row(step)
        if previous is not None:
            self._announce_missed(step, previous)
            return previous
        self.emit({"type": "step", "step": step.id, "tool": step.tool, "status": "running"})
        started = time.perf_counter()
        try:
            tool = get_tool(step.tool)
            args = tool.parse(resolve_refs(step.args, outputs, self._values(step)))
            key = cache.call_key(tool, args, self.models, self.db) if self.use_cache else None
        except ToolError as exc:
            return self._finish(step, row_id, StepOutcome(step.id, "failed", error=str(exc)), started)
        except KeyError as exc:  # a $ref to an output that does not exist
            return self._finish(step, row_id, StepOutcome(step.id, "failed", error=f"missing input {exc}"), started)
        if key is None:
            return _Call(step, row_id, tool, args, key)
        # The copied rows and the step's status commit together: a crash between them would copy twice.
        with self.db.session() as s:
            hit = cache.reuse(s, key, run_id=self.run_id, step_row=row_id, step_key=step.id)
            if hit:
                outcome = StepOutcome(step.id, "succeeded", *hit)
                self._finish(step, row_id, outcome, started, cached=True, session=s)
        if not hit:
            return _Call(step, row_id, tool, args, key)
        self._announce(step, outcome, round(time.perf_counter() - started, 3), True, 1)
        return outcome

    def _values(self, step: PlanStep) -> dict[str, dict[str, Any]]:
        """The recorded values of the earlier steps whose text `step` uses through `$value` references."""
        keys = {ref.split(".", 1)[0] for ref in iter_value_refs(step.args)}
        if not keys:
            return {}
        with self.db.session() as s:
            rows = {key: repo.get_step(s, self.run_id, key) for key in keys}
            return {key: dict(row.values or {}) for key, row in rows.items()
                    if row is not None and row.status == "succeeded"}

    def _groups(self, calls: list[_Call]) -> list[list[_Call]]:
        """Calls that can share one batched model call end up in the same group."""
        groups: dict[Any, list[_Call]] = {}
        for i, call in enumerate(calls):
            batch_key = call.tool.batch_key(call.args) if self.batch else None
            groups.setdefault((call.tool.name, batch_key) if batch_key is not None else i, []).append(call)
        return list(groups.values())

    def _run_group(self, group: list[_Call]) -> list[StepOutcome]:
        started = time.perf_counter()
        tool = group[0].tool
        try:
            results = self.backend.run(tool, [c.args for c in group], self.ctx)
        except ToolError as exc:
            return [self._finish(c.step, c.row_id, StepOutcome(c.step.id, "failed", error=str(exc)), started,
                                 batched=len(group)) for c in group]
        return [self._complete(call, result, started, len(group)) for call, result in zip(group, results, strict=True)]

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

    def _complete(self, call: _Call, result: ToolResult, started: float, batched: int) -> StepOutcome:
        """Store the artifacts and mark the step succeeded in ONE transaction: a process killed in
        between leaves either both or neither, so a resumed run never records a step's assets twice."""
        blobs = [self.store.put(art.data)[0] for art in result.artifacts]  # content-addressed: idempotent
        with self.db.session() as s:
            slots = {art.name: repo.create_asset(s, **self._lineage(call, result, art), sha256=sha,
                                                 cache_key=call.key).id
                     for art, sha in zip(result.artifacts, blobs, strict=True)}
            outcome = StepOutcome(call.step.id, "succeeded", slots, result.values)
            self._finish(call.step, call.row_id, outcome, started, batched=batched, session=s)
        # Announced after the commit, so a listener that reads the step back finds it finished.
        self._announce(call.step, outcome, round((time.perf_counter() - started) / batched, 3), False, batched)
        return outcome

    def _lineage(self, call: _Call, result: ToolResult, art: Artifact) -> dict:
        step = call.step
        return {
            "run_id": self.run_id, "step_id": call.row_id, "tool": step.tool, "name": art.name,
            "role": f"{step.id}.{art.name}", "kind": art.kind, "mime": art.mime, "size": len(art.data),
            "width": art.width, "height": art.height, "duration": art.duration, "model_id": result.model_id,
            "model_revision": result.model_revision, "intent": art.intent or step.intent,
            "seed": art.params.get("seed", getattr(call.args, "seed", None)),
            "params": {"args": call.args.model_dump(mode="json"), **art.params},
        }

    def _finish(self, step: PlanStep, row_id: str, outcome: StepOutcome, started: float, *,
                cached: bool = False, batched: int = 1, session=None) -> StepOutcome:
        """Record the step's end (inside `session` when given) and then announce it."""
        duration = round((time.perf_counter() - started) / batched, 3)  # a batch's time, shared by its steps
        values = {**outcome.values, **({"cached": True} if cached else {}),
                  **({"batched": batched} if batched > 1 else {})}
        with nullcontext(session) if session is not None else self.db.session() as s:
            repo.update_step(s, row_id, status=outcome.status, error=outcome.error, values=values,
                             finished_at=datetime.now(UTC), duration_s=duration)
        if session is None:
            self._announce(step, outcome, duration, cached, batched)
        return outcome

    def _announce_missed(self, step: PlanStep, outcome: StepOutcome) -> None:
        """A step committed as succeeded just before a crash may never have been announced (the event
        comes after the commit): a resumed run announces it, unless its event is already stored."""
        with self.db.session() as s:
            if repo.step_announced(s, self.run_id, step.id):
                return
            row = repo.get_step(s, self.run_id, step.id)
            values, duration = dict(row.values or {}), row.duration_s or 0.0
        self._announce(step, outcome, duration, bool(values.get("cached")), int(values.get("batched", 1)))

    def _announce(self, step: PlanStep, outcome: StepOutcome, duration: float, cached: bool, batched: int) -> None:
        self.emit({"type": "step", "step": step.id, "tool": step.tool, "status": outcome.status,
                   "error": outcome.error, "duration": duration, "cached": cached, "batched": batched})
