"""Narration progress is linear in the library's size (issue 19): finished items are appended to
manifest.progress.jsonl, the manifest is written whole once at the end, and an interrupted job's
progress lines are what a resumed job reads."""
from __future__ import annotations

import time

import pytest

from agent.narrate.job import MANIFEST, PROGRESS, load_manifest, narrate_paths
from agent.narrate.run import NarrationJob
from agent.service.runs import create_narration_run


def _library(tmp_path, count: int):
    library = tmp_path / "library"
    library.mkdir()
    for n in range(count):
        (library / f"f{n:04d}.png").write_bytes(b"")  # each an item that fails at once: no model work
    return library


def _job(runtime, library, out):
    return create_narration_run(runtime, NarrationJob(paths=[library], roots=[library]), out_dir=out)


def test_a_big_library_appends_progress_and_writes_the_manifest_once(runtime, tmp_path):
    library, out = _library(tmp_path, 1000), tmp_path / "out"
    seen = []

    def progress(event):
        if event["type"] == "item":
            lines = len((out / PROGRESS).read_text().splitlines())
            seen.append(((out / MANIFEST).exists(), lines == event["done"]))

    started = time.perf_counter()
    report = narrate_paths(runtime, [library], out, run_id=_job(runtime, library, out), progress=progress)
    seconds = time.perf_counter() - started
    print(f"1,000 empty files: {seconds:.1f} s")
    assert report["totals"]["items"] == 1000 and len(seen) == 1000
    assert set(seen) == {(False, True)}  # never rewritten mid-job; one line per finished item
    assert len(load_manifest(out)) == 1000 and not (out / PROGRESS).exists()


def test_an_interrupted_job_keeps_its_finished_items_for_the_resume(runtime, tmp_path):
    library, out = _library(tmp_path, 12), tmp_path / "out"

    def crash_after_five(event) -> None:
        if event["type"] == "item" and event["done"] == 5:
            raise SystemExit("the server went down")

    with pytest.raises(SystemExit):
        narrate_paths(runtime, [library], out, run_id=_job(runtime, library, out), progress=crash_after_five)
    assert not (out / MANIFEST).exists()
    with (out / PROGRESS).open("a") as torn:
        torn.write('{"key": "half a li')  # the crash cut the last line short
    assert len(load_manifest(out)) == 5
