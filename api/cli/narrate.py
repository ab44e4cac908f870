"""`storyloom narrate PATH...`: describe a media library for blind and low-vision people.

The paths given are the library roots. Outputs go to `--out` (default `<data dir>/narrations/<name of
the first path>`): per image NAME.alt.json and a copy of the image carrying the alt text and long
description as IPTC/XMP accessibility fields (always written); per audio file NAME.transcript.txt
and NAME.vtt; per video the audio-description outputs; and manifest.json, report.json, report.html.
Exit codes: 0 every item done, 1 some item failed (see the report), 2 bad arguments (nothing written).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from agent.narrate.job import plan_items
from agent.service.runs import narrate_library
from api.cli import render
from api.cli.common import check_writable_dir, runtime, settings
from api.cli.render import print_json
from api.errors import UsageError


def narrate(args: argparse.Namespace) -> int:
    paths = [Path(p).expanduser() for p in args.paths]
    _check_paths(paths)
    config = settings()
    out = (args.out or config.data_dir / "narrations" / (paths[0].resolve().name or "library")).expanduser()
    resolved = out.resolve()
    if any(path.resolve() == resolved or resolved in path.resolve().parents for path in paths):
        # its outputs are skipped when walking: every item would be too, and copies would overwrite originals
        raise UsageError("--out must not contain the library")
    check_writable_dir(out)
    if args.dry_run:
        return _dry_run(paths, out, config.narration.max_file_mb, args.json)
    rt = runtime(args.profile)
    with ItemProgress(enabled=not args.json) as bar:
        rt.models.on_load = lambda spec: bar.detail(f"loading {spec.role} model {spec.model_id}")
        report = narrate_library(rt, paths, out, resume=args.resume, progress=bar.event)
    if report is None:
        render.say("[red]the narration job failed before writing its report; see `storyloom runs list`[/]")
        return 1
    print_json(report) if args.json else _summary(report, out)
    return 0 if report["totals"]["failed"] == 0 else 1


def _check_paths(paths: list[Path]) -> None:
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
        if not (path.is_file() or path.is_dir()):
            raise UsageError(f"{path}: not a file or folder")


def _dry_run(paths: list[Path], out: Path, max_file_mb: float, as_json: bool) -> int:
    """What would be done, from the files alone: no database, no models, nothing written."""
    items = plan_items(paths, max_file_mb=max_file_mb, exclude=out)
    rows = [{"index": i.index, "name": i.rel, "kind": i.kind, "size": i.size, "sha256": i.sha256,
             "would": _would(i.kind) if i.error is None else "fail", "error": i.error} for i in items]
    if as_json:
        print_json({"out_dir": str(out), "items": rows})
        return 0
    table = Table(title=f"dry run: {len(rows)} items, outputs would go to {out}", title_justify="left")
    for column in ("#", "file", "kind", "would", "error"):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r["index"]), r["name"], r["kind"] or "", r["would"], r["error"] or "")
    render.out.print(table)
    return 0


def _would(kind: str | None) -> str:
    return {"image": "alt text, long description if complex, described copy",
            "audio": "transcript and captions (VTT)",
            "video": "audio description tracks, described MP4, transcript"}.get(kind or "", "")


class ItemProgress:
    """Items done of the total, the item just finished, and the time left (rich estimates it)."""

    def __init__(self, enabled: bool = True):
        self.progress = Progress(TextColumn("[bold]narrate"), BarColumn(bar_width=24), MofNCompleteColumn(),
                                 TextColumn("{task.description}"), TimeRemainingColumn(),
                                 console=render.console, disable=not enabled)
        self.task = self.progress.add_task("finding media", total=None)

    def __enter__(self) -> ItemProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def detail(self, text: str) -> None:
        self.progress.update(self.task, description=text)

    def event(self, e: dict[str, Any]) -> None:
        if e["type"] == "items":
            self.progress.update(self.task, total=e["total"], description="")
        elif e["type"] == "item":
            mark = "[green]done[/]" if e["status"] == "done" else f"[red]{e['status']}[/]"
            self.progress.update(self.task, completed=e["done"], description=f"{mark} {e['name']}")
        elif e["type"] == "detail":
            self.detail(e["text"])


def _summary(report: dict[str, Any], out: Path) -> None:
    t = report["totals"]
    table = Table(title=f"{t['items']} items: {t['done']} done ({t['resumed']} from an earlier run), "
                        f"{t['failed']} failed", title_justify="left")
    for column in ("file", "kind", "status", "result"):
        table.add_column(column)
    for item in report["items"]:
        table.add_row(item["name"], item["kind"], item["status"], _clip(_result_text(item), 70))
    render.out.print(table)
    criteria = ", ".join(f"{c} x{n}" for c, n in t["wcag"].items()) or "none"
    render.out.print(f"WCAG 2.2 criteria served: {criteria}  ({report['profile']} profile)")
    if t["seconds"] > 0:
        rate = 60 * t["items"] / t["seconds"]
        render.out.print(f"{t['items']} items in {t['seconds']:.1f} s: {rate:.1f} items per minute")
    render.out.print(f"report: {out / 'report.html'}  {out / 'report.json'}")


def _result_text(item: dict[str, Any]) -> str:
    if item["error"]:
        return item["error"]
    data = item.get("data") or {}
    if item["kind"] == "image":
        return "decorative (empty alt)" if data.get("decorative") else f"alt: {data.get('alt', '')}"
    if item["kind"] == "audio":
        return f"transcript: {data.get('transcript', '')}"
    return ", ".join(item.get("outputs", {}))


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
