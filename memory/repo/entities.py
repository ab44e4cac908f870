"""Entities: what must look the same across scenes, such as a character."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from memory.repo._rows import add
from memory.tables import Entity


def create_entity(s: Session, *, name: str, kind: str, description: str, session_id: str | None = None,
                  run_id: str | None = None, first_asset_id: str | None = None) -> Entity:
    return add(s, Entity(name=name, kind=kind, description=description, session_id=session_id, run_id=run_id,
                         first_asset_id=first_asset_id))


def list_entities(s: Session, *, session_id: str | None = None, run_id: str | None = None) -> list[Entity]:
    """Entities matching every filter given, oldest first."""
    query = select(Entity).order_by(Entity.created_at, Entity.id)
    if session_id is not None:
        query = query.where(Entity.session_id == session_id)
    if run_id is not None:
        query = query.where(Entity.run_id == run_id)
    return list(s.scalars(query))
