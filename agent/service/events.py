"""Run events: every progress event of a run is a row, so a stream can be replayed from any point
(SSE `Last-Event-ID`) and survives a server restart. The row id is the event id."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from agent.webhooks import outbox
from memory import repo
from memory.db import Database
from memory.tables import TERMINAL_STATUSES

TERMINAL = TERMINAL_STATUSES


def record(db: Database, run_id: str, event: dict[str, Any]) -> int:
    """Store one event (`type` plus any JSON fields); returns its id."""
    data = {k: v for k, v in event.items() if k != "type"}
    with db.session() as s:
        return repo.add_event(s, run_id=run_id, type=str(event.get("type", "info"))[:50], data=data).id


def finish(db: Database, run_id: str, status: str, error: str | None,
           also: Callable[[Session, Any], None] = lambda s, run: None) -> dict[str, Any] | None:
    """End the run: its final status, what `also` writes (the chat reply), its webhook delivery and its
    terminal event, in ONE transaction, so no crash can leave a finished run without its terminal event or the reverse.
    Returns the stored event; None when the run already has its terminal event (it ended before)."""
    with db.session() as s:
        if repo.has_terminal_event(s, run_id):
            return None
        run = repo.get_run(s, run_id)
        repo.update_run(s, run_id, status=status, error=error, finished_at=run.finished_at or datetime.now(UTC))
        also(s, run)
        outbox.enqueue(s, run)  # the run's webhook, when it asked for one: sent once this commits
        data = {"status": status, "error": error}
        return {"type": status, **data, "id": repo.add_event(s, run_id=run_id, type=status, data=data).id}


def since(db: Database, run_id: str, after: int = 0, limit: int = 500) -> list[dict[str, Any]]:
    """The run's events with an id above `after`, oldest first."""
    with db.session() as s:
        return [{"id": e.id, "type": e.type, "data": dict(e.data or {}), "at": e.created_at.isoformat()}
                for e in repo.list_events(s, run_id=run_id, after=after, limit=limit)]
