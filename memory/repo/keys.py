"""API keys: only a hash of each key is stored."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from memory.repo._rows import add
from memory.tables import ApiKey


def create_key(s: Session, *, name: str, key_hash: str) -> ApiKey:
    return add(s, ApiKey(name=name, key_hash=key_hash))


def get_key(s: Session, key_id: str) -> ApiKey | None:
    return s.get(ApiKey, key_id)


def list_keys(s: Session) -> list[ApiKey]:
    """Oldest first."""
    return list(s.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def find_key(s: Session, key_hash: str) -> ApiKey | None:
    """The live (not revoked) key with this hash."""
    return s.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None)))


def revoke_key(s: Session, key_id: str) -> bool:
    """Mark the key revoked (the first revocation time is kept); False when there is no such key."""
    row = s.get(ApiKey, key_id)
    if row is None:
        return False
    row.revoked_at = row.revoked_at or datetime.now(UTC)
    return True
