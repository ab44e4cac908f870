"""A session's pins: a style and a seed that every later turn uses until they change.

Set over HTTP (PUT /v1/sessions/{id}/pins) or by a chat message: "pin the style watercolour, soft
morning light", "pin the seed 42", "unpin the style", "unpin" (both). A pin message starts no run:
it is recorded in the thread with a one-line reply. `chat.start_turn` applies the pins.
"""
from __future__ import annotations

import re
from typing import Any

from agent.runtime import Runtime
from agent.service.chat import session_dict
from memory import repo
from tools.base import MAX_REQUEST_SEED

MAX_STYLE_CHARS = 200
_PIN = re.compile(r"^\s*(?:please\s+)?pin\s+(?:the\s+|a\s+)?(?P<what>style|seed)\s*(?:to\s+|as\s+|:\s*|=\s*)?"
                  r"(?P<value>.+?)\s*[.!]?\s*$", re.IGNORECASE | re.DOTALL)
_UNPIN = re.compile(r"^\s*(?:please\s+)?unpin(?:\s+(?:the\s+)?(?P<what>style|seed))?(?:\s+(?:please|everything|all))?"
                    r"\s*[.!]?\s*$", re.IGNORECASE)


def parse_pins(message: str, pins: dict[str, Any]) -> dict[str, Any] | None:
    """The session's pins after `message`, or None when it is not a pin message. ValueError (one line)
    for a seed that is not a number in range or a style that is too long."""
    if unpin := _UNPIN.match(message):
        what = unpin.group("what")
        return {k: v for k, v in pins.items() if what and k != what.lower()}
    pin = _PIN.match(message)
    if pin is None:
        return None
    what, value = pin.group("what").lower(), " ".join(pin.group("value").split()).strip("\"'“”")
    if what == "seed":
        if not value.isdigit() or int(value) > MAX_REQUEST_SEED:
            raise ValueError(f"seed: {value!r} is not a whole number from 0 to {MAX_REQUEST_SEED}")
        return {**pins, "seed": int(value)}
    if not value or len(value) > MAX_STYLE_CHARS:
        raise ValueError(f"style: say the style in 1 to {MAX_STYLE_CHARS} characters")
    return {**pins, "style": value}


def pin_turn(rt: Runtime, session_id: str, content: str, *, api_key_id: str | None = None) -> dict[str, Any] | None:
    """When `content` sets or clears pins: store them, record the message and a one-line reply, and
    return the session as JSON; None for any other message. KeyError for another key's session."""
    with rt.db.session() as s:
        session = _owned(s, session_id, api_key_id)
        pins = parse_pins(content, dict(session.pins or {}))
        if pins is None:
            return None
        repo.update_session(s, session_id, pins=pins or None)
        repo.add_message(s, session_id=session_id, role="user", content=content.strip())
        repo.add_message(s, session_id=session_id, role="assistant", content=describe(pins))
        return session_dict(session, repo.list_messages(s, session_id))


def describe(pins: dict[str, Any]) -> str:
    if not pins:
        return "Nothing is pinned: later stories choose their own style and seed."
    said = [f"the style “{pins['style']}”" if "style" in pins else "", f"seed {pins['seed']}" if "seed" in pins else ""]
    return f"Pinned {' and '.join(p for p in said if p)}: every later turn of this session uses it until you change it."


def set_pins(rt: Runtime, session_id: str, pins: dict[str, Any], *, api_key_id: str | None = None) -> dict[str, Any]:
    """Replace the session's pins (`style`, `seed`; an empty dict unpins both); returns them.
    KeyError when the session is not the key's."""
    with rt.db.session() as s:
        _owned(s, session_id, api_key_id)
        repo.update_session(s, session_id, pins=dict(pins) or None)
    return dict(pins)


def get_pins(rt: Runtime, session_id: str, *, api_key_id: str | None = None) -> dict[str, Any]:
    """The session's pins ({} when none). KeyError when the session is not the key's."""
    with rt.db.session() as s:
        return dict(_owned(s, session_id, api_key_id).pins or {})


def _owned(s, session_id: str, api_key_id: str | None):
    session = repo.get_session(s, session_id, owner=api_key_id)
    if session is None:
        raise KeyError(f"no session {session_id!r}")
    return session
