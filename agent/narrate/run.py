"""A narration job as a run: the job's paths, roots and options live in the run's info, the run
service executes it like any other kind, and each item's output files become assets of the run, so
the API serves them like any other asset.

A server always runs a job with `resume`, so one restarted mid-job takes finished items from the
manifest instead of describing them again.
"""
from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.assets import store_file
from agent.narrate.job import Events, job_verdict, narrate_paths
from agent.runtime import Runtime
from memory import repo


@dataclass
class NarrationJob:
    """What a narration run describes: `paths` inside `roots`; `uploaded` roots are removed once done."""

    paths: list[Path]
    roots: list[Path]
    uploaded: bool = False
    resume: bool = True

    def as_info(self) -> dict[str, Any]:
        return {"paths": [str(p) for p in self.paths], "roots": [str(r) for r in self.roots],
                "uploaded": self.uploaded, "resume": self.resume}

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> NarrationJob:
        paths = [Path(p) for p in info["paths"]]
        return cls(paths=paths, roots=[Path(r) for r in info.get("roots") or paths],
                   uploaded=bool(info.get("uploaded")), resume=bool(info.get("resume", True)))


def narrate_job(rt: Runtime, run_id: str, *, emit: Events, cancelled: Callable[[], bool]) -> dict[str, Any]:
    """Describe the run's library; returns the report (also written as report.json and report.html)."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        job, out_dir = NarrationJob.from_info(run.info.get("narration") or {}), Path(run.output_dir)
    report = narrate_paths(rt, job.paths, out_dir, roots=job.roots, resume=job.resume, run_id=run_id,
                           progress=emit, cancelled=cancelled, every_file=job.uploaded)
    register_outputs(rt, run_id, out_dir, report)
    status, error = job_verdict(report)
    with rt.db.session() as s:  # after the outputs are recorded: the verdict means the job's work is done
        repo.set_verdict(s, run_id, status=status, error=error)
    discard_uploads(rt, run_id)  # the inputs are in the asset store now (each item imported them)
    return report


def discard_uploads(rt: Runtime, run_id: str) -> bool:
    """Remove an upload job's folder (only ever one under the data folder's uploads/); True when it did.
    Called when the job ends in any way (done, failed, cancelled, even before it started): a retry of a
    job whose uploads are gone asks for them again."""
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        info = (run.info or {}).get("narration") if run is not None and run.kind == "narration" else None
    if not info or not info.get("uploaded"):
        return False
    uploads = (Path(rt.settings.data_dir) / "uploads").resolve()
    removed = False
    for root in NarrationJob.from_info(info).roots:
        if uploads in Path(root).resolve().parents:
            shutil.rmtree(root, ignore_errors=True)
            removed = True
    return removed


def sweep_uploads(rt: Runtime, *, older_than_s: float = 600.0) -> int:
    """Remove upload folders no unfinished narration run uses (left by a crash between a job's end and
    its clean-up, or by an upload whose run was never created); returns how many. Folders younger than
    `older_than_s` are kept: another server may be saving one right now."""
    uploads = (Path(rt.settings.data_dir) / "uploads").resolve()
    if not uploads.is_dir():
        return 0
    with rt.db.session() as s:
        used = {Path(root).resolve() for run in repo.list_not_ended(s, kind="narration")
                for root in ((run.info or {}).get("narration") or {}).get("roots", [])}
    removed = 0
    for folder in uploads.iterdir():
        if folder.is_dir() and folder not in used and time.time() - folder.stat().st_mtime > older_than_s:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def register_outputs(rt: Runtime, run_id: str, out_dir: Path, report: dict[str, Any]) -> None:
    """Store every item's output file as an asset of the run (once: a role already present is kept)."""
    with rt.db.session() as s:
        known = {a.role for a in repo.list_assets(s, run_id=run_id)}
    for position, item in enumerate(report.get("items", [])):
        for name, rel in (item.get("outputs") or {}).items():
            role = f"item{position}:{name}"
            path = out_dir / rel
            if role in known or not path.is_file():
                continue
            store_file(rt.db, rt.store, path, run_id=run_id, role=role, tool="narrate", name=name,
                       params={"item": item.get("path"), "file": rel})


def output_assets(rt: Runtime, run_id: str) -> dict[int, dict[str, str]]:
    """Item position in the report -> output name -> asset id."""
    found: dict[int, dict[str, str]] = {}
    with rt.db.session() as s:
        for asset in repo.list_assets(s, run_id=run_id):
            if asset.tool == "narrate" and asset.role and asset.role.startswith("item"):
                index, _, name = asset.role[4:].partition(":")
                found.setdefault(int(index), {})[name] = asset.id
    return found
