"""Run events: every progress event is a row whose integer id is its SSE event id."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from memory.repo._rows import add
from memory.tables import Event


def add_event(s: Session, *, run_id: str, type: str, data: dict[str, Any]) -> Event:
    return add(s, Event(run_id=run_id, type=type, data=data))


def list_events(s: Session, *, run_id: str, after: int = 0, limit: int = 500) -> list[Event]:
    """The run's events with an id above `after`, oldest first."""
    query = select(Event).where(Event.run_id == run_id, Event.id > after).order_by(Event.id).limit(limit)
    return list(s.scalars(query))
