"""Run events: every progress event is a row whose integer id is its SSE event id."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from memory.repo._rows import add
from memory.tables import TERMINAL_STATUSES, Event


def add_event(s: Session, *, run_id: str, type: str, data: dict[str, Any]) -> Event:
    return add(s, Event(run_id=run_id, type=type, data=data))


def list_events(s: Session, *, run_id: str, after: int = 0, limit: int = 500) -> list[Event]:
    """The run's events with an id above `after`, oldest first."""
    query = select(Event).where(Event.run_id == run_id, Event.id > after).order_by(Event.id).limit(limit)
    return list(s.scalars(query))


def has_terminal_event(s: Session, run_id: str) -> bool:
    """Whether the run's final event (succeeded, failed or cancelled) is stored."""
    query = select(Event.id).where(Event.run_id == run_id, Event.type.in_(TERMINAL_STATUSES)).limit(1)
    return s.scalar(query) is not None


def step_announced(s: Session, run_id: str, step_key: str) -> bool:
    """Whether the run's events include step `step_key` finishing successfully."""
    query = select(Event.data).where(Event.run_id == run_id, Event.type == "step")
    return any((data or {}).get("step") == step_key and (data or {}).get("status") == "succeeded"
               for data in s.scalars(query))
