"""What the chaos suite checks in the database and the asset store after each run.

- assets lost: an asset row whose file is missing or whose bytes no longer hash to its sha256; a
  succeeded step of a tool that makes files with no asset row; a reference run's output slot (role)
  missing; a narration item output in report.json without its asset.
- assets duplicated: output slots (roles) beyond the reference run's count, and score rows repeated
  for the same asset and metric.
- events missing: events in the database the client never received across its reconnects; no
  terminal event in the database; a succeeded step of a planned run without its "step succeeded"
  event (narration jobs report items, not steps).
- events repeated: an event id received twice (the stream's made-up terminal event reuses the last
  id), and more than one terminal event in the database.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from evals.chaos_client import TERMINAL, Seen
from memory import repo
from memory.db import Database
from memory.store import AssetStore
from memory.tables import Event
from tools.registry import get_tool


def signature(db: Database, run_id: str) -> Counter:
    """(role, sha256) of every asset of the run: what an uninterrupted run must also make."""
    with db.session() as s:
        return Counter((a.role, a.sha256) for a in repo.list_assets(s, run_id=run_id))


def snapshot(db: Database, run_id: str) -> dict[str, Any]:
    """The run as the dead server left it: its status and its succeeded steps. (A finished step that
    is done again shows up as a duplicated output slot; steps rebuilt after a revision are not redone.)"""
    with db.session() as s:
        run = repo.get_run(s, run_id)
        done = [st.key for st in repo.list_steps(s, run_id) if st.status == "succeeded"]
        return {"status": run.status if run else None, "succeeded_steps": done}


def audit_run(db: Database, store: AssetStore, run_id: str, seen: Seen, reference: Counter | None) -> dict[str, Any]:
    with db.session() as s:
        run = repo.get_run(s, run_id)
        assets, steps = repo.list_assets(s, run_id=run_id), repo.list_steps(s, run_id)
        scores = Counter((sc.asset_id, sc.metric) for sc in repo.list_scores(s, run_id=run_id))
        stored = repo.list_events(s, run_id=run_id, limit=1_000_000)
        status, error, kind, out_dir = run.status, run.error, run.kind, run.output_dir
        # A run that did not succeed is short of the reference's outputs by its own failure, not by a loss.
        compared = reference if status == "succeeded" else None
        lost = _lost(store, assets, steps, compared, kind, out_dir)
        duplicated = _duplicated(assets, scores, compared)
        missing, repeated = _events(stored, steps if kind != "narration" else [], seen)
    differ = _differ(signature(db, run_id), reference) if reference is not None else []
    return {"run_id": run_id, "kind": kind, "status": status, "error": error, "lost": lost,
            "duplicated": duplicated, "differ": differ, "events_missing": missing, "events_repeated": repeated,
            "reconnects": seen.reconnects, "submit_retries": seen.submit_retries,
            "runs_submitted": len(set(seen.runs_submitted)) or 1}


def _lost(store: AssetStore, assets, steps, reference: Counter | None, kind: str, out_dir: str | None) -> list[str]:
    found = [f"{a.role}: file missing or changed" for a in assets if not store.verify(a.sha256)]
    with_assets = {a.step_id for a in assets}
    found += [f"step {st.key} succeeded without assets" for st in steps
              if st.status == "succeeded" and get_tool(st.tool).outputs and st.id not in with_assets]
    if reference is not None:
        have = Counter(a.role for a in assets)
        want = Counter(role for role, _ in reference.elements())
        found += [f"{role}: missing ({have[role]} of {n})" for role, n in want.items() if have[role] < n]
    if kind == "narration" and out_dir:
        found += _narration_outputs_unregistered(Path(out_dir), {a.role for a in assets})
    return found


def _narration_outputs_unregistered(out_dir: Path, roles: set[str]) -> list[str]:
    try:
        report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ["narration report.json missing"]
    return [f"item{i}:{name}: output in report.json without an asset" for i, item in enumerate(report.get("items", []))
            for name in (item.get("outputs") or {}) if f"item{i}:{name}" not in roles]


def _duplicated(assets, scores: Counter, reference: Counter | None) -> list[str]:
    """Output slots beyond the reference's count (a step rebuilt after a revision legitimately adds a
    second row under its role, so without a reference only scores are judged), and repeated scores."""
    found = []
    if reference is not None:
        want, have = Counter(role for role, _ in reference.elements()), Counter(a.role for a in assets)
        found += [f"{role}: {n} rows (expected {want[role] or 1})" for role, n in have.items() if n > (want[role] or 1)]
    found += [f"score {metric} of asset {asset[:8]}: {n} rows" for (asset, metric), n in scores.items() if n > 1]
    return found


def _differ(mine: Counter, reference: Counter) -> list[str]:
    """Roles whose bytes differ from the reference run's (a recomputation that was not deterministic)."""
    roles = {role for role, _ in mine} & {role for role, _ in reference}
    shas = {side: {role: sorted(sha[:8] for r, sha in counter.elements() if r == role) for role in roles}
            for side, counter in (("mine", mine), ("ref", reference))}
    return sorted(f"{role}: {shas['mine'][role]} (reference {shas['ref'][role]})" for role in roles
                  if shas["mine"][role] != shas["ref"][role])


def _events(stored: list[Event], steps, seen: Seen) -> tuple[list[str], list[str]]:
    received = [int(e["id"]) for e in seen.events if str(e.get("id", "")).isdigit()]
    ids = set(received)
    missing = [f"event {e.id} ({e.type}) never reached the client" for e in stored if e.id not in ids]
    terminal = [e for e in stored if e.type in TERMINAL]
    if not terminal:
        missing.append("no terminal event in the database")
    announced = {(e.data or {}).get("step") for e in stored
                 if e.type == "step" and (e.data or {}).get("status") == "succeeded"}
    missing += [f"step {st.key} succeeded without its event" for st in steps
                if st.status == "succeeded" and st.key not in announced]
    counts = Counter(received)
    repeated = [f"event id {i} received {n} times" + (" (made-up terminal event)" if _made_up(i, seen) else "")
                for i, n in counts.items() if n > 1]
    repeated += [f"{len(terminal)} terminal events in the database"] if len(terminal) > 1 else []
    return missing, repeated


def _made_up(event_id: int, seen: Seen) -> bool:
    same = [e for e in seen.events if str(e.get("id")) == str(event_id)]
    return len(same) > 1 and same[-1]["event"] in TERMINAL and same[0]["event"] not in TERMINAL


def audit_session(db: Database, session_id: str) -> dict[str, Any]:
    """Every run of a chat session has exactly one user turn and, once finished, exactly one reply."""
    with db.session() as s:
        runs = repo.list_session_runs(s, session_id)
        messages = repo.list_messages(s, session_id)
    turns = Counter((m.run_id, m.role) for m in messages)
    orphans = [r.id for r in runs if turns[(r.id, "user")] == 0]
    replies = [f"run {r.id[:8]}: {turns[(r.id, 'assistant')]} replies" for r in runs
               if r.status in TERMINAL and turns[(r.id, "assistant")] != 1]
    return {"runs": len(runs), "runs_without_user_turn": orphans, "reply_problems": replies}
