"""Chat sessions and their messages."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from memory.repo._rows import add, get_owned, update
from memory.tables import ChatSession, Message


def create_session(s: Session, *, api_key_id: str | None = None, title: str | None = None) -> ChatSession:
    return add(s, ChatSession(api_key_id=api_key_id, title=title))


def get_session(s: Session, session_id: str, *, owner: str | None = None) -> ChatSession | None:
    """The session; with `owner`, None unless that API key made it."""
    return get_owned(s, ChatSession, session_id, owner)


def list_sessions(s: Session, *, api_key_id: str | None = None, limit: int = 50) -> list[ChatSession]:
    """Newest first; only the key's own sessions when `api_key_id` is given."""
    query = select(ChatSession).order_by(ChatSession.created_at.desc(), ChatSession.id).limit(limit)
    if api_key_id is not None:
        query = query.where(ChatSession.api_key_id == api_key_id)
    return list(s.scalars(query))


def update_session(s: Session, session_id: str, **fields: Any) -> ChatSession:
    """Set only the given columns (e.g. `title`); KeyError when the session does not exist."""
    return update(s, ChatSession, session_id, fields)


def add_message(s: Session, *, session_id: str, role: str, content: str, run_id: str | None = None) -> Message:
    return add(s, Message(session_id=session_id, role=role, content=content, run_id=run_id))


def list_messages(s: Session, session_id: str) -> list[Message]:
    """Oldest first."""
    query = select(Message).where(Message.session_id == session_id).order_by(Message.created_at, Message.id)
    return list(s.scalars(query))


def has_reply(s: Session, session_id: str, run_id: str) -> bool:
    """Whether the session holds the assistant's answer to `run_id`."""
    query = select(Message.id).where(Message.session_id == session_id, Message.run_id == run_id,
                                     Message.role == "assistant").limit(1)
    return s.scalar(query) is not None
