"""Run events: every progress event of a run is a row, so a stream can be replayed from any point
(SSE `Last-Event-ID`) and survives a server restart. The row id is the event id."""
from __future__ import annotations

from typing import Any

from memory import repo
from memory.db import Database
from memory.tables import TERMINAL_STATUSES

TERMINAL = TERMINAL_STATUSES


def record(db: Database, run_id: str, event: dict[str, Any]) -> int:
    """Store one event (`type` plus any JSON fields); returns its id."""
    data = {k: v for k, v in event.items() if k != "type"}
    with db.session() as s:
        return repo.add_event(s, run_id=run_id, type=str(event.get("type", "info"))[:50], data=data).id


def since(db: Database, run_id: str, after: int = 0, limit: int = 500) -> list[dict[str, Any]]:
    """The run's events with an id above `after`, oldest first."""
    with db.session() as s:
        return [{"id": e.id, "type": e.type, "data": dict(e.data or {}), "at": e.created_at.isoformat()}
                for e in repo.list_events(s, run_id=run_id, after=after, limit=limit)]
