"""Files that enter the memory from outside a tool call (imported inputs, job outputs written to disk)
stored as assets of a run, with their kind read from the content type."""
from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from memory import repo
from memory.db import Database
from memory.store import AssetStore

mimetypes.add_type("text/vtt", ".vtt")  # not in every system's table
_KINDS = {"text/vtt": "subtitles", "image": "image", "audio": "audio", "video": "video"}


def asset_kind(mime: str) -> str:
    """image | audio | video | subtitles | document for a content type."""
    return _KINDS.get(mime, _KINDS.get(mime.split("/")[0], "document"))


def guess_mime(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def store_file(db: Database, store: AssetStore, path: Path, *, run_id: str, role: str, tool: str = "import",
               name: str = "input", mime: str | None = None, kind: str | None = None,
               params: dict[str, Any] | None = None) -> str:
    """Copy `path` into the content-addressed store and record it as an asset of `run_id`; returns its id.
    The same bytes under the same role of the same run are one asset: a job resumed after a crash
    imports its item's input again and gets the asset recorded the first time."""
    mime = mime or guess_mime(path)
    sha, stored = store.put_file(path)
    with db.session() as s:
        known = repo.find_input(s, run_id=run_id, role=role, sha256=sha)
        if known is not None:
            return known.id
        return repo.create_asset(s, run_id=run_id, tool=tool, name=name, role=role, kind=kind or asset_kind(mime),
                                 mime=mime, sha256=sha, size=stored.stat().st_size, params=params or {}).id
