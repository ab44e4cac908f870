"""The media library: which files a narration job covers, what each one is, and whether it is safe to read.

Paths must resolve inside the library roots (the CLI's own arguments, or the API's configured
roots), so `..` and symlinks cannot reach the rest of the disk. The kind of a file is decided by its
content (Pillow for images, PyAV for audio and video), never by its name; a name that promises an
image the content does not deliver is an error of that item, not of the job.
"""
from __future__ import annotations

import hashlib
import json
import mimetypes
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.narrate.metadata import read_embedded
from tools.base import ToolError
from tools.media import open_image, wav_missing_bytes

SIDECAR_SUFFIXES = (".context.txt", ".context.json")
# Files a narration job writes; met again in a library (an --out inside a root) they are not media.
OUTPUT_SUFFIXES = (".vtt", ".transcript.txt", ".transcript.html", ".alt.json", ".ad.json", ".ad.wav",
                   ".ad.mp4")
OUTPUT_NAMES = ("manifest.json", "report.json", "report.html")
SIDECAR_KEYS = ("page_text", "caption", "cast", "decorative", "purpose", "complex", "long_description",
                "on_screen_text")
MAX_SIDECAR_BYTES = 100_000


@dataclass
class Item:
    """One file of the job: `kind` image | audio | video, or None with `error` set."""

    path: Path
    rel: str  # unique name inside the job, the base of its output names
    index: int
    sha256: str = ""
    size: int = 0
    kind: str | None = None
    error: str | None = None
    sidecar: dict[str, Any] = field(default_factory=dict)


def check_roots(paths: list[Path], roots: list[Path]) -> list[Path]:
    """`paths` resolved; ValueError (one line) when one is missing or outside every root."""
    if not paths:
        raise ValueError("no paths given")
    resolved_roots = [Path(r).expanduser().resolve() for r in roots]
    out = []
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if not path.exists():
            raise ValueError(f"{raw}: no such file or folder")
        if not any(inside(path, r) for r in resolved_roots):
            raise ValueError(f"{raw}: outside the library roots")
        out.append(path)
    return out


def inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def discover(paths: list[Path], roots: list[Path] | None = None, *, max_file_mb: float = 500.0,
             exclude: Path | None = None) -> list[Item]:
    """Every media file under `paths` (sorted, recursive), checked and identified; errors are per item."""
    roots = roots if roots is not None else paths
    top = check_roots(paths, roots)
    resolved_roots = [Path(r).expanduser().resolve() for r in roots]
    excluded = exclude.expanduser().resolve() if exclude else None
    found: list[tuple[Path, str, str | None]] = []
    for path in top:
        prefix = path.name if len(top) > 1 else ""
        if path.is_file():
            found.append((path, _join(prefix, path.name), None))
            continue
        for file, rel, error in sorted(_walk(path, resolved_roots, excluded), key=lambda found: found[1]):
            found.append((file, _join(prefix, rel), error))
    items, seen = [], set()
    for file, rel, error in found:
        if (file, rel) in seen:
            continue
        seen.add((file, rel))
        item = Item(path=file, rel=rel, index=len(items) + 1, error=error)
        if error is None and not _inspect(item, max_file_mb, explicit=file in top):
            continue  # not media: ignored in a folder walk
        items.append(item)
    for i, item in enumerate(items, start=1):
        item.index = i
    return items


def _join(prefix: str, rel: str) -> str:
    return f"{prefix}/{rel}" if prefix else rel


def _walk(folder: Path, roots: list[Path], exclude: Path | None):
    """(file, path relative to `folder`, error) in sorted order; symlinks are checked, never followed."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not (exclude and inside((here / d).resolve(), exclude)))
        for name in sorted(filenames + [d for d in dirnames if (here / d).is_symlink()]):
            entry = here / name
            rel = entry.relative_to(folder).as_posix()
            target = entry.resolve()
            if entry.is_symlink() and not any(inside(target, r) for r in roots):
                yield entry, rel, "symlink points outside the library roots"
            elif entry.is_file() and not _ours(entry) and not (exclude and inside(target, exclude)):
                yield target, rel, None


def _ours(path: Path) -> bool:
    """Sidecars and files a narration job writes are not media to narrate."""
    name = path.name.lower()
    return name.endswith(SIDECAR_SUFFIXES + OUTPUT_SUFFIXES) or name in OUTPUT_NAMES


def _inspect(item: Item, max_file_mb: float, explicit: bool) -> bool:
    """Fill size, sha256, kind and sidecar (or error); False for a non-media file found while walking."""
    item.size = item.path.stat().st_size
    try:
        if item.size == 0:
            raise ValueError("empty file (0 bytes)")
        if item.size > max_file_mb * 1_000_000:
            raise ValueError(f"{item.size / 1e6:.1f} MB, over the {max_file_mb:g} MB limit")
        item.sha256 = sha256_file(item.path)
        item.kind = detect_kind(item.path)
        if item.kind is None:
            if not explicit:
                return False
            raise ValueError("not an image, audio or video file")
        item.sidecar = read_sidecar(item.path, item.kind)
    except (ValueError, ToolError) as exc:
        item.kind, item.error = None, str(exc)
    return True


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def detect_kind(path: Path) -> str | None:
    """image | audio | video by content; None for other files; ValueError for broken or mislabelled media."""
    named = (mimetypes.guess_type(path.name)[0] or "").split("/")[0]
    if _is_image(path):
        open_image(path)  # a full decode: truncated files and decompression bombs raise ToolError here
        return "image"
    if named == "image":
        raise ValueError(f"mislabelled: named {path.suffix} but the content is not a readable image")
    kind = _av_kind(path)
    if kind is None and named in ("audio", "video"):
        raise ValueError(f"mislabelled or damaged: named {path.suffix} but no decodable {named} stream")
    if kind == "audio" and wav_missing_bytes(path):
        raise ValueError(f"truncated: the WAV header promises {wav_missing_bytes(path)} more bytes")
    return kind


def _is_image(path: Path) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path):
            return True
    except Image.DecompressionBombError as exc:
        raise ValueError(f"refused: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False


def _av_kind(path: Path) -> str | None:
    """video when a real picture stream decodes (cover art of a song does not count), audio when only sound."""
    import av

    try:
        with av.open(str(path)) as box:
            pictures = [s for s in box.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
            stream = pictures[0] if pictures else (box.streams.audio[0] if box.streams.audio else None)
            if stream is None:
                return None
            next(iter(box.decode(stream)))  # one frame decodes, or the file is not what it claims
            return "video" if pictures else "audio"
    except (av.FFmpegError, StopIteration, UnicodeDecodeError, ValueError):
        return None


def read_sidecar(path: Path, kind: str) -> dict[str, Any]:
    """Context for a file: `NAME.context.json` / `NAME.context.txt` next to it, plus embedded image metadata.

    A broken sidecar is an error of its item: silently ignoring a `decorative: false` would be worse.
    """
    context: dict[str, Any] = read_embedded(path) if kind == "image" else {}
    stem = path.with_suffix("")
    for base in (stem, path):  # photo.context.json, or photo.png.context.json
        as_json, as_text = Path(f"{base}.context.json"), Path(f"{base}.context.txt")
        if as_json.is_file():
            context.update(_json_sidecar(as_json))
        if as_text.is_file():
            context["page_text"] = _small_text(as_text).strip()
    return context


def _json_sidecar(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_small_text(path))
    except json.JSONDecodeError as exc:
        raise ValueError(f"sidecar {path.name} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
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
    if path.stat().st_size > MAX_SIDECAR_BYTES:
        raise ValueError(f"sidecar {path.name} is over {MAX_SIDECAR_BYTES // 1000} kB")
    return path.read_text(encoding="utf-8", errors="replace")


def sidecar_text(sidecar: dict[str, Any]) -> str:
    """The sidecar as one short paragraph of context (for the recogniser's prompt or the LLM)."""
    parts = [str(sidecar[k]).strip() for k in ("purpose", "caption", "page_text", "embedded_alt",
                                               "embedded_description") if sidecar.get(k)]
    if sidecar.get("cast"):
        parts.append("Names: " + ", ".join(sidecar["cast"]))
    return " ".join(p for p in parts if p)[:1000]
