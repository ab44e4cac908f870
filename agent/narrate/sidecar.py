"""Context files next to a media file (`NAME.context.json` / `NAME.context.txt`), read safely.

A sidecar is untrusted input like the media: one that is a symlink must still resolve inside the
library roots (else `photo.context.txt -> /proc/self/environ` would copy the environment into the
report), and it is read with a hard byte cap, because /proc files report a size of 0.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tools.narration.metadata import read_embedded

SIDECAR_SUFFIXES = (".context.txt", ".context.json")
SIDECAR_KEYS = ("page_text", "caption", "cast", "decorative", "purpose", "complex", "long_description",
                "on_screen_text")
MAX_SIDECAR_BYTES = 100_000


def read_sidecar(path: Path, kind: str, roots: list[Path] | None = None) -> dict[str, Any]:
    """Context for a file: `NAME.context.json` / `NAME.context.txt` next to it, plus embedded image metadata.

    A broken sidecar is an error of its item: silently ignoring a `decorative: false` would be worse.
    `roots` are the resolved library roots a symlinked sidecar must stay inside (None: no symlink is read).
    """
    context: dict[str, Any] = read_embedded(path) if kind == "image" else {}
    stem = path.with_suffix("")
    for base in (stem, path):  # photo.context.json, or photo.png.context.json
        as_json, as_text = Path(f"{base}.context.json"), Path(f"{base}.context.txt")
        if _present(as_json, roots):
            context.update(_json_sidecar(as_json))
        if _present(as_text, roots):
            context["page_text"] = _small_text(as_text).strip()
    return context


def _present(path: Path, roots: list[Path] | None) -> bool:
    """Whether the sidecar exists; ValueError when it is a symlink leading out of the roots."""
    if path.is_symlink():
        target = path.resolve()  # a loop raises RuntimeError: the item's error, caught by the caller
        if not any(target == r or r in target.parents for r in roots or []):
            raise ValueError(f"sidecar {path.name} is a symlink pointing outside the library roots")
    return path.is_file()


def _json_sidecar(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_small_text(path))
    except json.JSONDecodeError as exc:
        raise ValueError(f"sidecar {path.name} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise ValueError(f"sidecar {path.name} is nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(f"sidecar {path.name} must hold a JSON object")
    out = {k: data[k] for k in SIDECAR_KEYS if k in data}
    if "cast" in out and not (isinstance(out["cast"], list) and all(isinstance(n, str) for n in out["cast"])):
        raise ValueError(f"sidecar {path.name}: cast must be a list of names")
    if "decorative" in out and not isinstance(out["decorative"], bool):
        raise ValueError(f"sidecar {path.name}: decorative must be true or false")
    for key in ("page_text", "caption", "purpose", "long_description", "on_screen_text"):
        if key in out and not isinstance(out[key], str):
            raise ValueError(f"sidecar {path.name}: {key} must be text")
    return out


def _small_text(path: Path) -> str:
    """The file's text, refused past MAX_SIDECAR_BYTES by what is actually read, not by what stat says."""
    with open(path, "rb") as f:
        data = f.read(MAX_SIDECAR_BYTES + 1)
    if len(data) > MAX_SIDECAR_BYTES:
        raise ValueError(f"sidecar {path.name} is over {MAX_SIDECAR_BYTES // 1000} kB")
    return data.decode("utf-8", errors="replace")


def sidecar_digest(sidecar: dict[str, Any]) -> str:
    """A short hash of an item's context: part of its manifest key, so an edited sidecar is done again."""
    text = json.dumps(sidecar, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def sidecar_text(sidecar: dict[str, Any]) -> str:
    """The sidecar as one short paragraph of context (for the recogniser's prompt or the LLM). Names come
    first: the recogniser takes them as hotwords, and the 1000-character cut must not drop them."""
    parts = ["Names: " + ", ".join(sidecar["cast"])] if sidecar.get("cast") else []
    parts += [str(sidecar[k]).strip() for k in ("purpose", "caption", "page_text", "embedded_alt",
                                                "embedded_description") if sidecar.get(k)]
    return " ".join(p for p in parts if p)[:1000]
