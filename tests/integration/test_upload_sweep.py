"""Upload folders a crash left behind are removed when a server starts (issue 18's crash windows)."""
from __future__ import annotations

import os
import time
from pathlib import Path

from agent.narrate.run import NarrationJob, sweep_uploads
from memory import repo


def _folder(rt, name: str, age_s: float) -> Path:
    folder = Path(rt.settings.data_dir).resolve() / "uploads" / name
    folder.mkdir(parents=True)
    (folder / "photo.png").write_bytes(b"not read by the sweep")
    then = time.time() - age_s
    os.utime(folder, (then, then))
    return folder


def test_only_old_folders_no_unfinished_job_uses_are_swept(runtime):
    orphan = _folder(runtime, "orphan", age_s=3600)
    in_use = _folder(runtime, "in-use", age_s=3600)
    fresh = _folder(runtime, "fresh", age_s=5)
    finished = _folder(runtime, "finished", age_s=3600)
    with runtime.db.session() as s:
        for folder, status in ((in_use, "queued"), (finished, "succeeded")):
            run = repo.create_run(s, kind="narration", request="upload", profile="offline", status=status)
            job = NarrationJob(paths=[folder], roots=[folder], uploaded=True)
            repo.update_run(s, run.id, info={"narration": job.as_info()})

    assert sweep_uploads(runtime, older_than_s=600) == 2
    assert not orphan.exists() and not finished.exists()
    assert (in_use / "photo.png").exists() and (fresh / "photo.png").exists()
    assert sweep_uploads(runtime, older_than_s=600) == 0
