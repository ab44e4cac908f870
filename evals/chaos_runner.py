"""One chaos run: submit, kill the server at a random moment, restart it, follow the run to its end,
audit it. And the reference runs (the same requests, never killed) it is held against.

The kill moment is drawn from two phases, so every crash window gets its turn:
- "submit" (20 %): during the POST itself, 0-1.5x the reference submit's time after it was sent;
- "progress" (80 %): after the client received the k-th event (k uniform over the reference run's
  events but the last), plus a delay drawn uniformly from the reference's gap to the next event (at
  most 1 s): anywhere between two commits, wherever the run is. Progress, not the clock, places the
  kill, because a run on a warm server is several times faster than the cold reference.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from evals.chaos_audit import audit_run, signature, snapshot
from evals.chaos_client import Killer, Seen, client, follow, retrying
from evals.chaos_kinds import Round, submit
from evals.serverproc import ServerProcess
from memory.db import Database
from memory.store import AssetStore


@dataclass
class Reference:
    """An uninterrupted run of one kind: what it made and how long it took."""

    run_id: str
    signature: Any  # Counter of (role, sha256)
    submit_s: float
    duration_s: float
    events: int
    gaps: list[float]  # seconds from each event to the next
    problems: list[str]  # what the audit finds in a run nobody killed


@dataclass
class Context:
    server: ServerProcess
    db: Database
    store: AssetStore
    rng: random.Random
    timeout_s: float


def reference(ctx: Context, rnd: Round, kind: str) -> Reference:
    http = client(ctx.server.base_url, rnd.key)
    seen, deadline = Seen(), time.monotonic() + ctx.timeout_s
    started = time.monotonic()
    run_id = submit(kind, http, rnd, seen, deadline)
    submitted = time.monotonic()
    follow(http, run_id, seen, deadline)
    ended = seen.ended_at or time.monotonic()
    status = seen.events[-1]["event"]
    if status != "succeeded":
        raise RuntimeError(f"the reference {kind} run {run_id} ended {status}: {seen.events[-1]['data']}")
    gaps = [b - a for a, b in zip(seen.arrived, seen.arrived[1:], strict=False)]
    audit = audit_run(ctx.db, ctx.store, run_id, seen, None)
    problems = audit["lost"] + audit["duplicated"] + audit["events_missing"] + audit["events_repeated"]
    return Reference(run_id, signature(ctx.db, run_id), submitted - started, ended - started, len(seen.events), gaps,
                     problems)


def kill_plan(rng: random.Random, ref: Reference) -> tuple[str, float, int | None, float]:
    """(phase, seconds after the submit starts, event count that triggers the kill or None, jitter)."""
    if rng.random() < 0.2 or ref.events < 2:
        return "submit", rng.uniform(0, max(1.5 * ref.submit_s, 0.01)), None, 0.0
    k = rng.randint(1, ref.events - 1)
    return "progress", 3600.0, k, rng.uniform(0, min(ref.gaps[k - 1], 1.0))


def chaos_run(ctx: Context, rnd: Round, kind: str, ref: Reference, index: int) -> dict[str, Any]:
    http = client(ctx.server.base_url, rnd.key)
    seen, deadline = Seen(), time.monotonic() + ctx.timeout_s
    if kind == "story" and rnd.session_id is None:  # the session is set-up, not the run under test
        rnd.session_id = retrying(http, lambda: http.post("/v1/sessions", json={"title": "chaos"}), Seen(), deadline)
    phase, at, trigger_on, jitter = kill_plan(ctx.rng, ref)
    holder: dict[str, str] = {}
    killer = Killer(ctx.server, lambda: snapshot(ctx.db, holder["run"]) if "run" in holder else {}, at, jitter)
    started = time.monotonic()
    killer.start()
    run_id = submit(kind, http, rnd, seen, deadline, index)
    holder["run"] = run_id

    def maybe_trigger(count: int) -> None:
        if trigger_on is not None and count >= trigger_on:
            killer.trigger.set()

    follow(http, run_id, seen, deadline, maybe_trigger)
    killer.trigger.set()  # a trigger past the run's last event: kill now, so every run has its kill
    killer.join(ctx.timeout_s)
    if killer.error:
        raise RuntimeError(f"the server did not come back after the kill: {killer.error}")
    result = audit_run(ctx.db, ctx.store, run_id, seen, ref.signature)
    landed = "after the run" if seen.ended_at and killer.killed_at and killer.killed_at > seen.ended_at else "mid-run"
    result.update(kind=kind, run_kind=result["kind"], round=rnd.number, phase=phase,
                  kill_after_s=round((killer.killed_at or started) - started, 2),
                  landed=landed, status_at_kill=killer.state.get("status"),
                  steps_done_at_kill=len(killer.state.get("succeeded_steps", [])),
                  restart_s=round(killer.restart_s or 0, 1), seconds=round(time.monotonic() - started, 1))
    return result
