"""A narration job: every file of a library described, one by one, with a manifest that makes it resumable.

`manifest.json` in the out dir is keyed by each file's sha256 (and its sidecar's). While a job runs, each
finished item is appended as one line to `manifest.progress.jsonl` (the manifest is written whole once,
at the end, and the progress file removed): a job is linear in the library's size (issue 19: rewriting
the manifest after every item made 1,000 files take 26 s), and an interrupted one loses at most the item
it was on. With `resume`, an item whose content is in
the manifest as done (and whose outputs are still there) is taken from it without any model work;
failed items are tried again. One bad file never stops the batch: its error is its item's status.
"""
from __future__ import annotations

import json
import logging
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from agent.narrate.audio import narrate_audio
from agent.narrate.images import narrate_image
from agent.narrate.library import Item, discover
from agent.narrate.report import build_report, write_report
from agent.narrate.sidecar import sidecar_digest
from agent.narrate.types import ItemResult, NarrationContext
from agent.narrate.video import narrate_video
from agent.runtime import Runtime
from memory import repo
from memory.leases import LeaseLost
from tools.base import ToolError

log = logging.getLogger("storyloom.narrate")
Events = Callable[[dict[str, Any]], None]
MANIFEST = "manifest.json"
PROGRESS = "manifest.progress.jsonl"


def plan_items(paths: list[Path], roots: list[Path] | None = None, *, max_file_mb: float = 500.0,
               exclude: Path | None = None, every_file: bool = False) -> list[Item]:
    """What a job on `paths` would cover (kind, size, sha256, or the item's error); writes nothing."""
    return discover(paths, roots, max_file_mb=max_file_mb, exclude=exclude, every_file=every_file)


def narrate_paths(rt: Runtime, paths: list[Path], out_dir: Path, *, run_id: str, roots: list[Path] | None = None,
                  resume: bool = False, progress: Events | None = None,
                  cancelled: Callable[[], bool] | None = None, write_metadata: bool = True,
                  every_file: bool = False) -> dict[str, Any]:
    """Narrate every media file under `paths` as the run `run_id` (made by the run service); returns the
    report (also written as report.json/.html).

    `roots` default to `paths` (the CLI's rule); ValueError when a path is missing or outside them.
    `every_file` (uploads) makes each file an item, a file that is not media an item with its error.
    `progress` receives {"type": "items", "total"}, {"type": "item", "index", "name", "status", "done",
    "total"} after each item, and {"type": "detail", "text"} from inside an item.
    """
    emit = progress or (lambda e: None)
    out_dir = Path(out_dir).expanduser().resolve()
    items = plan_items(paths, roots, max_file_mb=rt.settings.narration.max_file_mb, exclude=out_dir,
                       every_file=every_file)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = NarrationContext(rt=rt, run_id=run_id, out_dir=out_dir, cancelled=cancelled or (lambda: False),
                           progress=lambda text: emit({"type": "detail", "text": text}))
    manifest = load_manifest(out_dir) if resume else {}
    if not resume:
        (out_dir / PROGRESS).unlink(missing_ok=True)  # an earlier job's lines are not this job's
    emit({"type": "items", "total": len(items)})
    started, results, this_job = time.perf_counter(), [], {}
    for done, item in enumerate(items, start=1):
        if ctx.cancelled():
            break
        entry = (_duplicate(this_job, item) or _previous(manifest, item, out_dir)
                 or _run_item(ctx, item, write_metadata))
        manifest[_key(item)] = entry
        this_job.setdefault(_key(item), entry)
        append_progress(out_dir, _key(item), entry)
        results.append(entry)
        emit({"type": "item", "index": item.index, "name": item.rel, "status": entry["status"], "done": done,
              "total": len(items)})
    save_manifest(out_dir, run_id, manifest)
    (out_dir / PROGRESS).unlink(missing_ok=True)
    report = build_report(run_id, rt.profile, results, seconds=time.perf_counter() - started,
                          cancelled=ctx.cancelled())
    write_report(out_dir, report)
    _record_totals(rt, run_id, report)
    return report


def _key(item: Item) -> str:
    """The content and the context it was described with: an edited sidecar (now decorative, a new cast)
    makes a new key, so --resume and duplicate detection do the item again."""
    if not item.sha256:
        return f"unread:{item.rel}"  # an empty or unreadable file has no content to key by
    return f"{item.sha256}+{sidecar_digest(item.sidecar)}" if item.sidecar else item.sha256


def _previous(manifest: dict[str, Any], item: Item, out_dir: Path) -> dict[str, Any] | None:
    """The manifest's finished entry for this content, when all its outputs are still on disk."""
    entry = manifest.get(_key(item)) if item.error is None else None
    if not entry or entry.get("status") != "done":
        return None
    if not all((out_dir / rel).is_file() for rel in entry.get("outputs", {}).values()):
        return None
    return {**entry, "name": item.rel, "path": str(item.path), "resumed": True, "seconds": 0.0}


def _duplicate(this_job: dict[str, Any], item: Item) -> dict[str, Any] | None:
    """A file with the same content as one done earlier in this job shares its outputs."""
    first = this_job.get(_key(item)) if item.error is None else None
    if not first or first["status"] != "done":
        return None
    note = f"same content as {first['name']}: its outputs serve both"
    return {**first, "name": item.rel, "path": str(item.path), "warnings": [*first["warnings"], note],
            "seconds": 0.0}


def _run_item(ctx: NarrationContext, item: Item, write_metadata: bool) -> dict[str, Any]:
    """One item to a result dict; any failure becomes the item's error."""
    started = time.perf_counter()
    if item.error is not None:
        result = ItemResult(path=str(item.path), sha256=item.sha256, kind=item.kind or "unknown",
                            status="failed", error=item.error)
    else:
        try:
            result = _dispatch(ctx, item, write_metadata)
        except (ToolError, ValueError, OSError) as exc:
            result = _failed(item, str(exc))
        except LeaseLost:  # another worker holds the job now: this one records nothing more
            raise
        except Exception as exc:  # a bug on one file must not end the batch: record it, go on
            log.error("narration of %s crashed:\n%s", item.path, traceback.format_exc())
            result = _failed(item, f"internal error: {type(exc).__name__}: {exc}")
    return {**asdict(result), "name": item.rel, "resumed": False,
            "seconds": round(time.perf_counter() - started, 2)}


def _failed(item: Item, error: str) -> ItemResult:
    return ItemResult(path=str(item.path), sha256=item.sha256, kind=item.kind or "unknown", status="failed",
                      error=error)


def _dispatch(ctx: NarrationContext, item: Item, write_metadata: bool) -> ItemResult:
    ctx.progress(f"{item.kind} {item.rel}")
    if item.kind == "image":
        return narrate_image(ctx, item, write_metadata=write_metadata)
    if item.kind == "audio":
        return narrate_audio(ctx, item)
    # Video outputs are named by the item's unique base: mirror the library's folders, as images do, so
    # a/intro.mp4 and b/intro.mp4 (or intro.mp4 and intro.mov) do not overwrite each other.
    base = Path(item.base or Path(item.rel).with_suffix("").as_posix())
    folder = base.parent
    (ctx.out_dir / folder).mkdir(parents=True, exist_ok=True)
    result = narrate_video(replace(ctx, out_dir=ctx.out_dir / folder), item.path, item.index, item.sidecar,
                           name=base.name, sha256=item.sha256)
    result.outputs = {name: (folder / rel).as_posix() for name, rel in result.outputs.items()}
    result.sha256 = result.sha256 or item.sha256
    return result


def load_manifest(out_dir: Path) -> dict[str, Any]:
    """Items of an earlier job in `out_dir` by sha256, its progress lines included ({} when none)."""
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        data = None
    items = data.get("items") if isinstance(data, dict) else None
    return {**(items if isinstance(items, dict) else {}), **_progress(out_dir)}


def _progress(out_dir: Path) -> dict[str, Any]:
    """Items finished since the manifest was last written whole (a line cut short by a crash is skipped)."""
    found: dict[str, Any] = {}
    try:
        lines = (out_dir / PROGRESS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return found
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("key"), str) and isinstance(record.get("entry"), dict):
            found[record["key"]] = record["entry"]
    return found


def append_progress(out_dir: Path, key: str, entry: dict[str, Any]) -> None:
    """One finished item, as one line at the end of the progress file."""
    with (out_dir / PROGRESS).open("a", encoding="utf-8") as out:
        out.write(json.dumps({"key": key, "entry": entry}, default=str) + "\n")


def save_manifest(out_dir: Path, run_id: str, items: dict[str, Any]) -> None:
    """Written to a temporary file and renamed, so a crash never leaves half a manifest."""
    tmp = out_dir / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps({"version": 1, "run_id": run_id, "items": items}, indent=2, default=str) + "\n",
                   encoding="utf-8")
    os.replace(tmp, out_dir / MANIFEST)


def job_verdict(report: dict[str, Any]) -> tuple[str, str | None]:
    """The job's final status and reason, from its report."""
    totals = report["totals"]
    if report["cancelled"]:
        return "cancelled", "cancelled"
    if totals["items"] and totals["failed"] == totals["items"]:
        return "failed", "every item failed"
    return "succeeded", f"{totals['failed']} of {totals['items']} items failed" if totals["failed"] else None


def _record_totals(rt: Runtime, run_id: str, report: dict[str, Any]) -> None:
    with rt.db.session() as s:
        info = dict(repo.get_run(s, run_id).info or {})
        info["narration"] = {**info.get("narration", {}), "totals": report["totals"]}
        repo.update_run(s, run_id, info=info)
