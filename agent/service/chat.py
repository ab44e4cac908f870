"""Chat turns: a session is a thread of messages, and each user message starts one run.

A turn that edits the session's finished story ("make the seal wear a red scarf in scene 2") becomes
a story run whose storyboard is the earlier one with that scene changed; it keeps the earlier run's
seed, so the unchanged scenes come back from the tool-call cache byte for byte. A turn that asks to
keep the story's characters ("keep Mara and Pip for later") runs the session's story again from the
cache and banks them (`agent.cast_bank`). Any other turn is a new request: a story run for a story,
else a free-form run, planned with the session's history and characters (see
`agent.planning.context`). Turns are created here, not executed: the API's workers execute them and
then call `record_reply`.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session

from agent.planning.intent import keep_for_later, keyword_intent
from agent.recipes.edit import parse_edit
from agent.recipes.redo import SceneLocked, parse_redo
from agent.requests import MAX_PROMPT_CHARS, Budget, FreeformRequest, StoryRequest
from agent.runtime import Runtime
from agent.service.budget import budget_info
from agent.service.redo import delivered_args, start_redo
from agent.service.runs import create_freeform_run, create_run, create_story_run
from agent.service.summary import iso
from agent.words import scene_count
from memory import repo
from memory.tables import TERMINAL_STATUSES

MAX_MESSAGE_CHARS = MAX_PROMPT_CHARS  # a turn becomes a run's request


def create_session(rt: Runtime, *, api_key_id: str | None = None, title: str | None = None) -> str:
    """A new, empty session owned by `api_key_id`; its title defaults to its first message."""
    if title is not None and len(title) > 500:
        raise ValueError(f"the title is {len(title)} characters long; the limit is 500")
    with rt.db.session() as s:
        return repo.create_session(s, api_key_id=api_key_id, title=(title or "").strip() or None).id


def start_turn(rt: Runtime, session_id: str, content: str, *, api_key_id: str | None = None, seed: int = 0,
               budget: Budget | None = None, webhook_url: str | None = None, review: bool = False,
               save_cast: bool = False) -> str:
    """Create the run the user's message asks for (queued, not executed) and record the message with it,
    in one transaction; returns the run's id. The session's pins (style, seed) apply to the run.

    KeyError when the session does not exist or belongs to another key; ValueError (one line) for an
    empty or too long message, or an edit of a scene the session's story does not have; SceneLocked for
    an edit or redo of a locked scene. With `save_cast` (or "keep Mara and Pip for later" in the message)
    a story's characters are banked once it succeeds.
    """
    content = _checked(content)
    keep = save_cast or keep_for_later(content)
    with rt.db.session() as s:
        session = _owned(s, session_id, api_key_id)
        owner, pins = session.api_key_id, dict(session.pins or {})
        base = _base_story(s, session_id)
        base_run = (base.id, base.seed or 0, dict(base.info["storyboard"]["board"])) if base else None
        delivered = delivered_args(s, base.id) if base else {}
    scenes = len(base_run[2]["scenes"]) if base_run else None
    redo = parse_redo(content, scenes=scenes)
    if redo is not None and base_run is not None:
        return start_redo(rt, base_run[0], redo, api_key_id=owner, message=content)
    edit = parse_edit(content, scenes=scenes)
    turn = {"session_id": session_id, "api_key_id": owner, "message": content,  # the message commits with its run
            "webhook_url": webhook_url}
    style = {"style": pins["style"]} if "style" in pins else {}
    seed = pins.get("seed", seed)
    if edit is not None and base_run is not None:
        base_id, base_seed, board = base_run
        if edit.scene and board["scenes"][edit.scene - 1].get("locked"):
            raise SceneLocked(f"scene {edit.scene} is locked")
        info = {"scenes": len(board["scenes"]), "chat": {"base_run": base_id, "edit": asdict(edit), "board": board,
                                                         "delivered": delivered}, **style, **budget_info(budget),
                **({"review": True} if review else {}), **({"save_cast": keep} if keep else {})}
        run_id = create_run(rt, kind="story", request=content, seed=base_seed, info=info, **turn)
    elif keep and base_run is not None and keyword_intent(content)[0] != "story":
        # "keep Mara and Pip for later": the session's story again (its plan, so every step is a cache hit),
        # then its cast is banked as the run ends
        base_id, base_seed, board = base_run
        info = {"scenes": len(board["scenes"]), "keep": {"base_run": base_id}, "save_cast": keep,
                **budget_info(budget)}
        run_id = create_run(rt, kind="story", request=content, seed=base_seed, info=info, **turn)
    elif keyword_intent(content)[0] == "story":
        request = StoryRequest(prompt=content, scenes=scene_count(content), seed=seed, budget=budget, review=review,
                               save_cast=keep)
        run_id = create_story_run(rt, request, extra_info=style, **turn)
    else:
        request = FreeformRequest(request=content, seed=seed, budget=budget, review=review)
        run_id = create_freeform_run(rt, request, extra_info=style, **turn)
    return run_id


def record_reply(rt: Runtime, run_id: str) -> None:
    """Append the assistant's answer to a finished run of a session (once: a repeat call adds nothing).
    KeyError for an unknown run; ValueError when the run has not finished yet."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        if run is None:
            raise KeyError(f"no run {run_id!r}")
        if run.session_id and run.status not in TERMINAL_STATUSES:
            raise ValueError(f"run {run_id} has not finished (it is {run.status})")
        add_reply(s, run)


def add_reply(s: Session, run: Any, text: str | None = None) -> None:
    """The reply (`text`, by default `reply_text`) to a finished run of a session, inside the caller's
    transaction (the runner's end of the run, with its final status and terminal event); nothing when
    the run has one already."""
    if run.session_id and not repo.has_reply(s, run.session_id, run.id):
        repo.add_message(s, session_id=run.session_id, role="assistant", content=text or reply_text(run),
                         run_id=run.id)


def reply_text(run: Any) -> str:
    """One or two sentences: what the run made (or what changed), or why it did not."""
    title = f"“{(run.title or run.request)[:80]}”"
    if run.status == "failed":
        return f"{title} failed: {(run.error or 'no reason was recorded')[:300]}"
    if run.status == "cancelled":
        return f"{title} was cancelled."
    if run.status == "declined":
        return run.error or "I can't do this with Storyloom's tools."
    made = _made_text(run, title)
    check = (run.info or {}).get("capability") or {}
    return f"{made} {check['reason']}" if check.get("supported") == "partial" and check.get("reason") else made


def _made_text(run: Any, title: str) -> str:
    info = run.info or {}
    if "redo" in info:
        change = info["redo"]["change"]
        what = ", ".join(k for k in ("seed", "picture", "narration") if change.get(k) is not None) or "seed"
        return f"{title} is ready: scene {change['scene']} redone (new {what}); the other scenes are kept."
    if "chat" in info:
        edit = info["chat"]["edit"]
        where = f"scene {edit['scene']} changed" if edit.get("scene") else "every scene changed"
        kept = "; the other scenes are kept" if edit.get("scene") and info.get("scenes", 1) > 1 else ""
        return f"{title} is ready: {where} ({edit['instruction']}){kept}."
    if info.get("saved_cast"):
        return f"Kept {len(info['saved_cast'])} character(s) of {title} in your cast bank for later stories."
    if run.kind == "story":
        scenes = len(info.get("storyboard", {}).get("board", {}).get("scenes", [])) or info.get("scenes", 0)
        return f"{title} is ready: an illustrated, narrated story in {scenes} scene{'s' * (scenes != 1)}."
    if run.kind == "brief":
        count = len(info.get("brief", {}).get("deliverables", []))
        return f"The brief {title} is ready: {count} deliverable{'s' * (count != 1)}."
    steps = len((run.plan or {}).get("steps", []))
    return f"{title} is done ({steps} step{'s' * (steps != 1)})."


def session_view(rt: Runtime, session_id: str, *, api_key_id: str | None = None) -> dict[str, Any]:
    """The session with its messages, oldest first, as plain JSON. KeyError when it is not the key's."""
    with rt.db.session() as s:
        return session_dict(_owned(s, session_id, api_key_id), repo.list_messages(s, session_id))


def session_dict(session: Any, messages: list[Any]) -> dict[str, Any]:
    """A session and the given messages as plain JSON."""
    return {"id": session.id, "title": session.title, "created_at": iso(session.created_at),
            "pins": dict(session.pins or {}),
            "messages": [{"role": m.role, "content": m.content, "run_id": m.run_id, "created_at": iso(m.created_at)}
                         for m in messages]}


def _checked(content: str) -> str:
    if not isinstance(content, str) or not content.strip():
        raise ValueError("the message is empty; say what to make or change")
    if len(content) > MAX_MESSAGE_CHARS:
        raise ValueError(f"the message is {len(content)} characters long; the limit is {MAX_MESSAGE_CHARS}")
    return content.strip()


def _owned(s: Session, session_id: str, api_key_id: str | None):
    session = repo.get_session(s, session_id, owner=api_key_id)
    if session is None:
        raise KeyError(f"no session {session_id!r}")
    return session


def _base_story(s: Session, session_id: str):
    """The session's latest finished story run that has a storyboard (the one an edit changes)."""
    runs = [r for r in repo.list_session_runs(s, session_id) if r.kind == "story" and r.status == "succeeded"
            and (r.info or {}).get("storyboard", {}).get("board")]
    return runs[-1] if runs else None
