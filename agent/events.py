"""Run events: every progress event of a run is a row, so a stream can be replayed from any point
(SSE `Last-Event-ID`) and survives a server restart. The row id is the event id."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from memory.db import Database
from memory.models import Event

TERMINAL = ("succeeded", "failed", "cancelled")


def record(db: Database, run_id: str, event: dict[str, Any]) -> int:
    """Store one event (`type` plus any JSON fields); returns its id."""
    data = {k: v for k, v in event.items() if k != "type"}
    with db.session() as s:
        row = Event(run_id=run_id, type=str(event.get("type", "info"))[:50], data=data)
        s.add(row)
        s.flush()
        return row.id


def since(db: Database, run_id: str, after: int = 0, limit: int = 500) -> list[dict[str, Any]]:
    """The run's events with an id above `after`, oldest first."""
    query = (select(Event).where(Event.run_id == run_id, Event.id > after).order_by(Event.id).limit(limit))
    with db.session() as s:
        return [{"id": e.id, "type": e.type, "data": dict(e.data or {}), "at": e.created_at.isoformat()}
                for e in s.scalars(query)]


def finish(db: Database, run_id: str, status: str, error: str | None = None) -> int:
    """The terminal event: the last one a stream sends."""
    return record(db, run_id, {"type": status, "status": status, "error": error})
