"""The cast bank (issue 15): characters, styles and places an API key keeps for later stories.

Entities are checked before anything is stored: a name of 1-80 characters, a known kind and voice, and
a reference picture decoded by the bounded image reader (empty, truncated, not an image, too large or a
decompression bomb is one line, and nothing is kept). The picture is re-encoded as PNG (no metadata,
at most REFERENCE_SIDE px a side) into the content-addressed store; the row keeps its sha256.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from agent.runtime import Runtime
from memory import repo
from memory.tables import CAST_KINDS, CastEntity
from tools.base import ToolError
from tools.engines.tts import installed_voices
from tools.media.image import encode_png, read_image

MAX_NAME_CHARS = 80
MAX_LOOK_CHARS = 500
MAX_REFERENCE_BYTES = 8_000_000  # checked before a byte is decoded
REFERENCE_SIDE = 512


class CastError(ValueError):
    """Bad input for the bank, in one line (the API answers 422, the CLI exits 2)."""


def clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise CastError("the name is empty")
    if len(name) > MAX_NAME_CHARS:
        raise CastError(f"the name is {len(name)} characters; the limit is {MAX_NAME_CHARS}")
    return name


def check_fields(*, kind: str | None = None, look: str | None = None, voice: str | None = None) -> None:
    if kind is not None and kind not in CAST_KINDS:
        raise CastError(f"unknown kind {kind!r}; one of {', '.join(CAST_KINDS)}")
    if look is not None and len(look) > MAX_LOOK_CHARS:
        raise CastError(f"the look is {len(look)} characters; the limit is {MAX_LOOK_CHARS}")
    if voice and voice != "heart" and voice not in installed_voices():
        raise CastError(f"unknown or not installed voice {voice!r}; available: heart")


def read_reference(data: bytes, label: str = "the reference image") -> bytes:
    """The picture in `data` as PNG bytes, decoded with the bounded reader; CastError in one line."""
    if not data:
        raise CastError(f"{label} is empty (0 bytes)")
    if len(data) > MAX_REFERENCE_BYTES:
        raise CastError(f"{label} is {len(data)} bytes; the limit is {MAX_REFERENCE_BYTES}")
    with tempfile.TemporaryDirectory(prefix="storyloom-ref-") as folder:
        path = Path(folder) / "reference"
        path.write_bytes(data)
        try:
            image = read_image(path, label)
        except ToolError as exc:
            raise CastError(str(exc)) from None
    image.thumbnail((REFERENCE_SIDE, REFERENCE_SIDE))
    return encode_png(image)


def add_entity(rt: Runtime, *, owner: str | None, kind: str, name: str, look: str = "", voice: str | None = None,
               reference: bytes | None = None) -> dict[str, Any]:
    """Check everything, then store the picture and the row; returns the entity as JSON."""
    name = clean_name(name)
    check_fields(kind=kind, look=look, voice=voice)
    sha = rt.store.put(read_reference(reference))[0] if reference is not None else None
    with rt.db.session() as s:
        return entity_dict(repo.create_cast_entity(s, owner=owner, kind=kind, name=name, look=look.strip(),
                                                   voice=voice or None, reference_sha256=sha))


def change_entity(rt: Runtime, entity_id: str, *, owner: str | None, fields: dict[str, Any],
                  reference: bytes | None = None) -> dict[str, Any] | None:
    """Set the given fields (name, look, voice) and/or a new picture; None when the key has no such entity."""
    with rt.db.session() as s:
        if repo.get_cast_entity(s, entity_id, owner=owner) is None:
            return None
    if "name" in fields:
        fields["name"] = clean_name(fields["name"])
    check_fields(look=fields.get("look"), voice=fields.get("voice"))
    if reference is not None:
        fields["reference_sha256"] = rt.store.put(read_reference(reference))[0]
    with rt.db.session() as s:
        if repo.get_cast_entity(s, entity_id, owner=owner) is None:
            return None
        return entity_dict(repo.update_cast_entity(s, entity_id, **fields))


def entity_dict(row: CastEntity) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "name": row.name, "look": row.look, "voice": row.voice,
            "reference_sha256": row.reference_sha256, "created_at": row.created_at.isoformat(),
            "updated_at": row.updated_at.isoformat()}


def named_in(text: str, name: str) -> bool:
    """Whether `name` appears in `text` as whole words (letter case ignored)."""
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text, flags=re.IGNORECASE) is not None


def banked(rt: Runtime, owner: str | None, request: str, kind: str = "character") -> list[dict[str, Any]]:
    """The key's entities of `kind` the request names, newest of each name, in the order the request names them."""
    with rt.db.session() as s:
        rows = repo.list_cast_entities(s, owner=owner, kind=kind)
    found: dict[str, dict[str, Any]] = {}
    for row in reversed(rows):  # newest first: a later save of a name wins
        if named_in(request, row.name):
            found.setdefault(row.name.lower(), entity_dict(row))
    return sorted(found.values(), key=lambda e: request.lower().find(e["name"].lower()))


CAST_STRENGTH = 0.6  # image-to-image: how far a picture moves from the reference (revisions lower it)


def copy_into_run(rt: Runtime, run_id: str, banked: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The run's own copy of each banked character (its row as JSON in the run's info, its picture as an
    asset of the run), so deleting the entity later does not touch the run; name -> conditioning."""
    bank: dict[str, dict[str, Any]] = {}
    with rt.db.session() as s:
        for entity in banked:
            sha, reference = entity["reference_sha256"], None
            if sha and rt.store.exists(sha):
                reference = (repo.find_input(s, run_id=run_id, role=f"cast:{entity['id']}", sha256=sha)
                             or repo.create_asset(s, run_id=run_id, tool="cast", name="reference",
                                                  role=f"cast:{entity['id']}", kind="image", mime="image/png",
                                                  sha256=sha, size=rt.store.path(sha).stat().st_size,
                                                  intent=f"reference picture of {entity['name']}",
                                                  params={"entity": entity})).id
            bank[entity["name"]] = {"entity_id": entity["id"], "look": entity["look"], "voice": entity["voice"],
                                    "reference": reference, "strength": CAST_STRENGTH if reference else None}
        run = repo.get_run(s, run_id)
        repo.update_run(s, run_id, info={**run.info, "cast": bank})
    return bank


def save_cast(rt: Runtime, run_id: str) -> list[dict[str, Any]]:
    """Bank the finished story's characters (those `info["save_cast"]` names, or all when it is True) for
    the run's key: name, look, voice, and the story's first picture as reference when the entity has
    none yet. A name already banked is updated, not doubled."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        wanted, owner, info = run.info.get("save_cast"), run.api_key_id, dict(run.info)
        wanted = wanted if (info.get("verdict") or {}).get("status") == "succeeded" else None
        board = info.get("storyboard", {}).get("board", {})
        first = _first_picture(s, run_id)
    if not wanted or not board:
        return []
    names = wanted if isinstance(wanted, list) else [c["name"] for c in board.get("characters", [])]
    voices = {name: entry.get("voice") for name, entry in info.get("cast", {}).items()}
    sha = first.sha256 if first is not None else None
    saved = []
    with rt.db.session() as s:
        for character in board.get("characters", []):
            if not any(n.lower() == character["name"].lower() for n in names):
                continue
            row = repo.find_cast_entity(s, owner=owner, kind="character", name=character["name"])
            fields = {"look": character["look"], "voice": voices.get(character["name"])}
            if row is None:
                row = repo.create_cast_entity(s, owner=owner, kind="character", name=character["name"][:80],
                                              reference_sha256=sha, **fields)
            else:
                row = repo.update_cast_entity(s, row.id, reference_sha256=row.reference_sha256 or sha, **fields)
            saved.append(entity_dict(row))
        run = repo.get_run(s, run_id)
        repo.update_run(s, run_id, info={**run.info, "saved_cast": [e["id"] for e in saved]})
    return saved


def _first_picture(s, run_id: str):
    """The asset the first picture step chose (its critic's winner), else its first candidate."""
    step = repo.get_step(s, run_id, "image-1")
    if step is None:
        return None
    chosen = (step.values or {}).get("selected")
    if chosen:
        return repo.get_asset(s, chosen)
    return next((a for a in repo.list_assets(s, run_id=run_id) if a.step_id == step.id and a.kind == "image"), None)
