"""The cast bank: characters, styles and places an API key keeps for later stories. Every read and
write takes `owner` (the API key id; None is the command line's own bank), so another key's entities
look exactly like missing ones."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from memory.repo._rows import add, update
from memory.tables import CastEntity, is_id, utcnow


def _owned(query, owner: str | None):
    return query.where(CastEntity.api_key_id.is_(None) if owner is None else CastEntity.api_key_id == owner)


def create_cast_entity(s: Session, *, owner: str | None, kind: str, name: str, look: str = "",
                       voice: str | None = None, reference_sha256: str | None = None) -> CastEntity:
    return add(s, CastEntity(api_key_id=owner, kind=kind, name=name, look=look, voice=voice,
                             reference_sha256=reference_sha256))


def get_cast_entity(s: Session, entity_id: str, *, owner: str | None) -> CastEntity | None:
    if not is_id(entity_id):
        return None
    return s.scalar(_owned(select(CastEntity).where(CastEntity.id == entity_id), owner))


def list_cast_entities(s: Session, *, owner: str | None, kind: str | None = None) -> list[CastEntity]:
    """The key's entities, oldest first; only those of `kind` when given."""
    query = _owned(select(CastEntity), owner).order_by(CastEntity.created_at, CastEntity.id)
    return list(s.scalars(query if kind is None else query.where(CastEntity.kind == kind)))


def find_cast_entity(s: Session, *, owner: str | None, kind: str, name: str) -> CastEntity | None:
    """The key's newest entity of `kind` named `name` (letter case ignored)."""
    query = _owned(select(CastEntity), owner).where(CastEntity.kind == kind,
                                                     func.lower(CastEntity.name) == name.lower())
    return s.scalars(query.order_by(CastEntity.created_at.desc(), CastEntity.id).limit(1)).first()


def update_cast_entity(s: Session, entity_id: str, **fields: Any) -> CastEntity:
    return update(s, CastEntity, entity_id, {**fields, "updated_at": utcnow()})


def delete_cast_entity(s: Session, entity_id: str, *, owner: str | None) -> bool:
    row = get_cast_entity(s, entity_id, owner=owner)
    if row is None:
        return False
    s.delete(row)
    s.flush()
    return True
