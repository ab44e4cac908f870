"""The media library: which files a narration job covers, what each one is, and whether it is safe to read.

Paths must resolve inside the library roots (the CLI's own arguments, or the API's configured
roots), so `..` and symlinks cannot reach the rest of the disk. The kind of a file is decided by its
content (Pillow for images, PyAV for audio and video), never by its name; a name that promises an
image the content does not deliver is an error of that item, not of the job.
"""
from __future__ import annotations

import hashlib
import mimetypes
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.narrate.sidecar import SIDECAR_SUFFIXES, read_sidecar, sidecar_text
from tools.base import ToolError, one_line
from tools.media.audio import wav_missing_bytes
from tools.media.image import open_allowed, open_image

__all__ = ["Item", "check_roots", "discover", "inside", "sidecar_text", "detect_kind", "check_container"]
# Files a narration job writes; met again in a library (an --out inside a root) they are not media.
OUTPUT_SUFFIXES = (".vtt", ".transcript.txt", ".transcript.html", ".alt.json", ".ad.json", ".ad.wav",
                   ".ad.mp4")
OUTPUT_NAMES = ("manifest.json", "manifest.progress.jsonl", "report.json", "report.html")
# Self-contained containers (PyAV's demuxer names). Playlists and concat lists (hls, concat, ...) are
# refused: they make FFmpeg read files they name, which may lie outside the library.
ALLOWED_CONTAINERS = frozenset({"mov", "mp4", "m4a", "matroska", "webm", "avi", "mpegts", "wav", "mp3", "flac",
                                "ogg", "aac"})
# FFmpeg probes with only these demuxers and reads only local files: a playlist (hls, concat) is
# refused before it can open the files or URLs it names.
OPEN_OPTIONS = {"format_whitelist": ",".join(sorted(ALLOWED_CONTAINERS)), "protocol_whitelist": "file"}


@dataclass
class Item:
    """One file of the job: `kind` image | audio | video, or None with `error` set."""

    path: Path
    rel: str  # unique name inside the job
    index: int
    sha256: str = ""
    size: int = 0
    kind: str | None = None
    error: str | None = None
    sidecar: dict[str, Any] = field(default_factory=dict)
    base: str = ""  # its outputs' path without suffix, unique in the job: NAME, or NAME.ext when stems collide


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


def roots_overlapping(roots: list[Path], data_dir: Path) -> list[Path]:
    """The library roots that hold the data folder or lie inside it: through them, API clients could
    narrate (and so read) the database, the asset store of every key and other jobs' uploads."""
    data = Path(data_dir).expanduser().resolve()
    resolved = [(r, Path(r).expanduser().resolve()) for r in roots]
    return [raw for raw, root in resolved if inside(data, root) or inside(root, data)]


def inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def discover(paths: list[Path], roots: list[Path] | None = None, *, max_file_mb: float = 500.0,
             exclude: Path | None = None, every_file: bool = False) -> list[Item]:
    """Every media file under `paths` (sorted, recursive), checked and identified; errors are per item.

    A folder walk skips files that are not media, unless `every_file` (an upload: each file the user sent
    is an item, so one that is not media is reported as that item's error instead of vanishing).

    `exclude` (the job's out dir) is skipped in the walk; ValueError when it holds a path of the job,
    which would otherwise narrate nothing, or write described copies over the originals.
    """
    roots = roots if roots is not None else paths
    top = check_roots(paths, roots)
    resolved_roots = [Path(r).expanduser().resolve() for r in roots]
    excluded = exclude.expanduser().resolve() if exclude else None
    if excluded and any(inside(path, excluded) for path in top):
        raise ValueError(f"the out folder {exclude} must not contain the library")
    found: list[tuple[Path, str, str | None]] = []
    for path, prefix in zip(top, _prefixes(top), strict=True):
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
        explicit = every_file or file in top
        if error is None and not _inspect(item, max_file_mb, explicit=explicit, roots=resolved_roots):
            continue  # not media: ignored in a folder walk
        items.append(item)
    for i, item in enumerate(items, start=1):
        item.index = i
    _name_outputs(items)
    return items


def _prefixes(top: list[Path]) -> list[str]:
    """With several paths, each one's items are named under its own name; 2023/photos and 2024/photos
    become photos/ and photos-2/, so their items never share a name."""
    if len(top) < 2:
        return [""] * len(top)
    taken: set[str] = set()
    out = []
    for path in top:
        name, n = path.name, 1
        while name.lower() in taken:
            n += 1
            name = f"{path.name}-{n}"
        taken.add(name.lower())
        out.append(name)
    return out


def _name_outputs(items: list[Item]) -> None:
    """Each item's output base: its name without the extension, unless another item in the same folder has
    the same stem (a.png and a.jpg, talk.wav and talk.mp3): then all of those keep their extension."""
    def stem_key(item: Item) -> str:
        return Path(item.rel).with_suffix("").as_posix().lower()

    counts: dict[str, int] = {}
    for item in items:
        counts[stem_key(item)] = counts.get(stem_key(item), 0) + 1
    taken: set[str] = set()
    for item in items:
        base = Path(item.rel).with_suffix("").as_posix() if counts[stem_key(item)] == 1 else item.rel
        unique, n = base, 1
        while unique.lower() in taken:  # e.g. a.png.jpg next to a.png and a.jpg: rare, still never shared
            n += 1
            unique = f"{base}-{n}"
        taken.add(unique.lower())
        item.base = unique


def _join(prefix: str, rel: str) -> str:
    return f"{prefix}/{rel}" if prefix else rel


def _walk(folder: Path, roots: list[Path], exclude: Path | None):
    """(file, path relative to `folder`, error) in sorted order; symlinks are checked, never followed."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not (exclude and _resolves_into(here / d, exclude)))
        for name in sorted(filenames + [d for d in dirnames if (here / d).is_symlink()]):
            entry = here / name
            rel = entry.relative_to(folder).as_posix()
            try:
                target = entry.resolve()
            except (OSError, RuntimeError):  # a symlink loop: Python 3.11 raises RuntimeError, later OSError
                yield entry, rel, "symlink loop: the link cannot be resolved"
                continue
            if entry.is_symlink() and not any(inside(target, r) for r in roots):
                yield entry, rel, "symlink points outside the library roots"
            elif entry.is_file() and not _ours(entry) and not (exclude and inside(target, exclude)):
                yield target, rel, None


def _resolves_into(path: Path, folder: Path) -> bool:
    try:
        return inside(path.resolve(), folder)
    except (OSError, RuntimeError):
        return False  # a looping link: listed, then reported as its own item's error


def _ours(path: Path) -> bool:
    """Sidecars and files a narration job writes are not media to narrate."""
    name = path.name.lower()
    return name.endswith(SIDECAR_SUFFIXES + OUTPUT_SUFFIXES) or name in OUTPUT_NAMES


def _inspect(item: Item, max_file_mb: float, explicit: bool, roots: list[Path]) -> bool:
    """Fill size, sha256, kind and sidecar (or error); False for a non-media file found while walking.

    Any exception is the item's one-line error: a hostile file (bad EXIF, a sidecar nested 50,000 deep,
    an unreadable file) must not end the batch.
    """
    try:
        item.size = item.path.stat().st_size
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
        item.sidecar = read_sidecar(item.path, item.kind, roots)
    except (ValueError, ToolError, OSError) as exc:
        item.kind, item.error = None, one_line(str(exc))
    except Exception as exc:  # noqa: BLE001 - anything a hostile file provokes is that file's error
        item.kind, item.error = None, one_line(f"unreadable: {type(exc).__name__}: {exc}")
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
        with open_allowed(path):  # an exotic format (EPS, PSD, FITS...) is no image here

            return True
    except Image.DecompressionBombError as exc:
        raise ValueError(f"refused: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False


def _av_kind(path: Path) -> str | None:
    """video when a real picture stream decodes (cover art of a song does not count), audio when only sound;
    ValueError for a container that is not self-contained (a playlist)."""
    import av

    try:
        with av.open(str(path), options=OPEN_OPTIONS) as box:
            container = box.format.name
            pictures = [s for s in box.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
            stream = pictures[0] if pictures else (box.streams.audio[0] if box.streams.audio else None)
            if stream is not None and ALLOWED_CONTAINERS & set(container.split(",")):
                next(iter(box.decode(stream)))  # one frame decodes, or the file is not what it claims
    except (av.FFmpegError, StopIteration, UnicodeDecodeError, ValueError):
        return None
    if stream is None:
        return None
    _check_format(container)
    return "video" if pictures else "audio"


def _check_format(name: str) -> None:
    # PyAV names a demuxer by all its aliases: "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "hls"
    if not ALLOWED_CONTAINERS & set(name.split(",")):
        raise ValueError(f"container type {name} is not allowed")


def check_container(path: Path) -> str:
    """The container format of `path`; ValueError unless it is a self-contained one. Called again right
    before a file's media is decoded, on the stored copy, so a file swapped after discovery is caught."""
    import av

    try:
        with av.open(str(path), options=OPEN_OPTIONS) as box:
            name = box.format.name
    except av.FFmpegError as exc:
        raise ValueError(f"cannot open the media: {exc}") from None
    _check_format(name)
    return name
