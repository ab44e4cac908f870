"""API keys: `storyloom keys create NAME` prints a key once; only its sha256 is stored.

A key has 256 random bits, so a plain sha256 is enough (slow password hashes protect guessable
secrets; these are not guessable) and keeps every request's check to one indexed lookup.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy import select

from api.errors import ApiError
from memory.db import Database
from memory.models import ApiKey

PREFIX = "sl_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(db: Database, name: str) -> tuple[str, str]:
    """A new key for `name`; returns (key id, the key itself: shown once, never stored)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("a key name must be 1 to 200 characters")
    key = PREFIX + secrets.token_urlsafe(32)
    with db.session() as s:
        row = ApiKey(name=name, key_hash=hash_key(key))
        s.add(row)
        s.flush()
        return row.id, key


def list_keys(db: Database) -> list[ApiKey]:
    with db.session() as s:
        return list(s.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_key(db: Database, key_id: str) -> bool:
    with db.session() as s:
        row = s.get(ApiKey, key_id)
        if row is None:
            return False
        row.revoked_at = row.revoked_at or datetime.now(UTC)
        return True


def key_id_for(db: Database, key: str) -> str | None:
    """The id of the live key `key`, or None."""
    with db.session() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)))
        return row.id if row else None


def require_key(request: Request) -> str:
    """FastAPI dependency: the caller's key id, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    challenge = {"WWW-Authenticate": "Bearer"}
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "send your API key as `Authorization: Bearer KEY`", challenge)
    key_id = key_id_for(request.app.state.rt.db, token.strip())
    if key_id is None:
        raise ApiError(401, "unauthorized", "unknown or revoked API key", challenge)
    return key_id
