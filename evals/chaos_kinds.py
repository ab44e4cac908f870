"""The four kinds of run the chaos suite submits, each small enough to run many times on a CPU:
a story (a chat session's first turn, one scene), a chat turn that edits that story's scene, a brief
(picture, caption, narration, clip), and a narration job on two uploaded pictures."""
from __future__ import annotations

from dataclasses import dataclass

import httpx

from evals.chaos_client import Seen, get_json, retrying
from evals.media import png

KINDS = ("story", "chat", "brief", "narration")
STORY_TURN = "a bedtime story about a lighthouse keeper and a seal, one scene"
EDIT_TURN = "make the seal wear a red scarf in scene 1"
BRIEF = {
    "goal": "a lighthouse at night", "seed": 3,
    "deliverables": [
        {"kind": "image", "width": 64, "height": 64, "steps": 2},
        {"kind": "caption", "of": 0},
        {"kind": "narration", "text": "The lamp turns all night long."},
        {"kind": "video", "from_image": 0, "seconds": 1, "fps": 4, "width": 64, "height": 64, "steps": 2},
    ],
}


@dataclass
class Round:
    """One client's work in one round: its key, and the session its story and chat turn share."""

    number: int
    key: str
    session_id: str | None = None


def submit(kind: str, http: httpx.Client, rnd: Round, seen: Seen, deadline: float, index: int = 0) -> str:
    """Submit one run of `kind` (the `index`-th of the round); returns its id (retrying across a server death)."""
    if kind == "story":
        if rnd.session_id is None:
            rnd.session_id = retrying(http, lambda: http.post("/v1/sessions", json={"title": "chaos"}), Seen(),
                                      deadline)
        return _turn(http, rnd.session_id, STORY_TURN, seen, deadline)
    if kind == "chat":
        if rnd.session_id is None:
            raise RuntimeError("a chat turn needs the round's story session")
        return _turn(http, rnd.session_id, EDIT_TURN, seen, deadline)
    if kind == "brief":
        headers = {"Idempotency-Key": f"chaos-{rnd.number}-{index}"}
        return retrying(http, lambda: http.post("/v1/briefs", json=BRIEF, headers=headers), seen, deadline)
    if kind == "narration":
        return retrying(http, lambda: http.post("/v1/narrations/upload", files=_uploads()), seen, deadline)
    raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")


def _turn(http: httpx.Client, session_id: str, content: str, seen: Seen, deadline: float) -> str:
    before = _user_turns(http, session_id, content, deadline)

    def already_there() -> str | None:
        # The answer was lost, not necessarily the turn: a new message with our words is ours.
        turns = _user_turns(http, session_id, content, deadline)
        return turns[len(before)] if len(turns) > len(before) else None

    return retrying(http, lambda: http.post(f"/v1/sessions/{session_id}/messages", json={"content": content}),
                    seen, deadline, already_there)


def _user_turns(http: httpx.Client, session_id: str, content: str, deadline: float) -> list[str]:
    view = get_json(http, f"/v1/sessions/{session_id}", deadline)
    return [m["run_id"] for m in view["messages"] if m["role"] == "user" and m["content"] == content]


def _uploads() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", ("harbour.png", png(photo=True), "image/png")),
            ("files", ("rule.png", png(photo=False), "image/png"))]
