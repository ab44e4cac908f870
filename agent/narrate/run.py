"""A narration job as a server run: the worker's handler for runs of kind "narration".

The job's paths, roots and out dir are in the run's info. It always runs with `resume`, so a
server restarted mid-job takes finished items from the manifest instead of describing them again.
Each item's output files become assets of the run, so the API serves them like any other asset.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from agent.assets import store_file
from agent.narrate.job import narrate_paths
from agent.runtime import Runtime
from memory import repo


def execute_narration(rt: Runtime, run_id: str, emit, cancelled) -> dict[str, Any]:
    with rt.db.session() as s:
        run = repo.get_run(s, run_id)
        job, out_dir = dict(run.info.get("narration") or {}), Path(run.output_dir)
    report = narrate_paths(rt, [Path(p) for p in job["paths"]], out_dir, roots=[Path(r) for r in job["roots"]],
                           resume=True, run_id=run_id, progress=emit, cancelled=cancelled)
    register_outputs(rt, run_id, out_dir, report)
    if job.get("uploaded") and not report.get("cancelled"):
        # The inputs are in the asset store now (each item imported them); the upload copy goes.
        for root in job["roots"]:
            shutil.rmtree(root, ignore_errors=True)
    return report


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
