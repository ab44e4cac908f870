"""API keys: `storyloom keys create NAME` prints a key once; only its sha256 is stored.

A key has 256 random bits, so a plain sha256 is enough (slow password hashes protect guessable
secrets; these are not guessable) and keeps every request's check to one indexed lookup.
"""
from __future__ import annotations

import hashlib
import secrets
import time

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api.errors import ApiError
from memory import repo
from memory.db import Database
from memory.tables import ApiKey

PREFIX = "sl_"
# Live keys are remembered this long, so most requests skip the lookup and its thread hop (about a fifth
# of a read's server time under load, issue 18). A revoke in this process takes effect at once; one made
# by another process (`storyloom keys revoke`) within this many seconds.
KEY_CACHE_S = 2.0
_known: dict[tuple[str, str], tuple[str, float]] = {}  # (database url, key hash) -> (key id, valid until)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(db: Database, name: str) -> tuple[str, str]:
    """A new key for `name`; returns (key id, the key itself: shown once, never stored)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("a key name must be 1 to 200 characters")
    key = PREFIX + secrets.token_urlsafe(32)
    with db.session() as s:
        return repo.create_key(s, name=name, key_hash=hash_key(key)).id, key


def list_keys(db: Database) -> list[ApiKey]:
    with db.session() as s:
        return repo.list_keys(s)


def revoke_key(db: Database, key_id: str) -> bool:
    with db.session() as s:
        found = repo.revoke_key(s, key_id)
    _known.clear()
    return found


def key_id_for(db: Database, key: str) -> str | None:
    """The id of the live key `key`, or None (a database lookup; see `cached_key_id`)."""
    with db.session() as s:
        row = repo.find_key(s, hash_key(key))
        if row is not None:
            _known[(db.url, hash_key(key))] = (row.id, time.monotonic() + KEY_CACHE_S)
        return row.id if row else None


def cached_key_id(db: Database, key: str) -> str | None:
    """The key's id if it was found live less than KEY_CACHE_S ago, else None (then look it up)."""
    found = _known.get((db.url, hash_key(key)))
    return found[0] if found and found[1] > time.monotonic() else None


KEY_SCOPE = "storyloom.key_id"  # set by the request gate (api/limits.py) before any body is read


async def authenticate(db: Database, header: str) -> str | ApiError:
    """The key id for an `Authorization` header value, or the 401 to answer."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ApiError(401, "unauthorized", "send your API key as `Authorization: Bearer KEY`", _CHALLENGE)
    key_id = cached_key_id(db, token.strip()) or await run_in_threadpool(key_id_for, db, token.strip())
    return key_id if key_id is not None else ApiError(401, "unauthorized", "unknown or revoked API key", _CHALLENGE)


_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def require_key(request: Request) -> str:
    """FastAPI dependency: the caller's key id (checked by the gate already), or 401."""
    key_id = request.scope.get(KEY_SCOPE)
    if key_id is None:
        key_id = await authenticate(request.app.state.rt.db, request.headers.get("authorization", ""))
    if isinstance(key_id, ApiError):
        raise key_id
    return key_id
