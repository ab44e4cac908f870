"""Many processes on one PostgreSQL database (issue 17): an API-only server and worker processes that claim
runs with leases. A worker SIGKILLed in the middle of a run loses its lease; another worker resumes the run
from where it was and finishes it; nothing is stored twice; a cancel reaches a run on another process.

The default run uses narration jobs on decorative pictures (real runs that need no model, so three fresh
processes stay cheap); the full issue's scenario (three workers, nine briefs with pictures) is `slow`.
"""
from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from evals.chaos_client import read_sse
from evals.fleet import FLEET_ENV, Fleet, fleet, worker_pid
from memory import repo

LEASE_S = float(FLEET_ENV["STORYLOOM_SERVER__LEASE_S"])
PICTURES = 12
LONG_JOB = 150  # pictures in the job that is cancelled: long enough to be running still when the cancel comes
BRIEF = {"goal": "a lighthouse at night", "deliverables": [{"kind": "image", "width": 64, "height": 64, "steps": 2}]}


@pytest.fixture
def library(tmp_path):
    folder = tmp_path / "library"  # outside the data folder (the server refuses overlapping roots)
    folder.mkdir()
    for i in range(LONG_JOB):  # flat rules (decorative: no model), each its own, so none is a duplicate
        Image.new("RGB", (128, 8), (40 + i % 200, 40 + i // 200, 40)).save(folder / f"rule-{i}.png")
    return folder


def _kill_a_worker_mid_run(crew: Fleet, ids: list[str], progressed) -> tuple[datetime, int, list[str]]:
    """SIGKILL the worker of the first run that `progressed`; returns when, its pid and the runs it held."""
    runs = crew.wait(ids, 240, until=lambda runs: any(r.status == "running" and progressed(r) for r in runs))
    pid = worker_pid(next(r for r in runs if r.status == "running" and progressed(r)).lease_owner)
    os.kill(pid, signal.SIGKILL)
    killed_at = datetime.now(UTC)
    crew.worker(pid).kill()  # reaps it
    held = [r.id for r in crew.runs(ids) if r.status == "running" and worker_pid(r.lease_owner) == pid]
    return killed_at, pid, held


def _items_done(crew: Fleet, run_id: str) -> int:
    return crew.event_types(run_id).count("item")


def _check_takeover(crew: Fleet, runs, killed_at: datetime, pid: int, held: list[str]) -> None:
    assert [r.status for r in runs] == ["succeeded"] * len(runs), [r.error for r in runs]
    assert held, "the killed worker held no run"
    for run in (r for r in runs if r.id in held):
        assert worker_pid(run.lease_owner) != pid and run.lease_token >= 2
        assert run.finished_at - killed_at < timedelta(seconds=LEASE_S + 10), run.finished_at - killed_at
    # Who claimed runs: the last holder of each run, the killed worker, and any holder seen while polling.
    workers = {worker_pid(r.lease_owner) for r in runs} | {pid} | set().union(*crew.seen.values())
    assert len(workers) == len(crew.workers), f"runs went to {len(workers)} of {len(crew.workers)} workers"


def test_a_killed_worker_s_runs_are_finished_by_another_and_a_cancel_crosses_processes(pg_migrated_url, env,
                                                                                        library, tmp_path):
    with fleet(pg_migrated_url, 2, tmp_path, {**env, "STORYLOOM_NARRATION__LIBRARY_ROOTS": json.dumps([str(library)])}
               ) as crew:
        job = {"paths": [f"rule-{i}.png" for i in range(PICTURES)]}
        ids = crew.submit("/v1/narrations", [job] * 4)
        killed_at, pid, held = _kill_a_worker_mid_run(crew, ids, lambda r: _items_done(crew, r.id) >= 2)
        with crew.client() as http, http.stream("GET", f"/v1/runs/{held[0]}/events", timeout=120) as stream:
            kinds = [e["event"] for e in read_sse(stream)]  # served by a process that executes nothing
        assert "resumed" in kinds and kinds[-1] == "succeeded"
        runs = crew.wait(ids, 120)
        _check_takeover(crew, runs, killed_at, pid, held)
        # Resumed items are taken from the job's manifest: every run stored each output once.
        assert {len(crew.assets(r.id)) for r in runs} == {2 * PICTURES}
        # A cancel asked of the API server stops the run the other process executes.
        [long_job] = crew.submit("/v1/narrations", [{"paths": [f"rule-{i}.png" for i in range(LONG_JOB)]}])
        crew.wait([long_job], 60, until=lambda runs: _items_done(crew, long_job) >= 2)
        asked = time.monotonic()
        with crew.client() as http:
            assert http.post(f"/v1/runs/{long_job}/cancel").status_code == 202
        [run] = crew.wait([long_job], 30)
        took = time.monotonic() - asked
        print(f"cancel to stop: {took:.2f} s")
        assert run.status == "cancelled" and _items_done(crew, long_job) < LONG_JOB
        assert took < 2.0, f"the cancel took {took:.2f} s to stop the run on the worker"


@pytest.mark.slow
def test_three_workers_nine_briefs_one_killed_mid_step(pg_migrated_url, env, tmp_path):
    with fleet(pg_migrated_url, 3, tmp_path, env) as crew:
        # One brief per worker first: each loads its models (minutes on a busy machine), so the nine that
        # follow are short and a free worker can take the killed one's run as soon as its lease ends.
        crew.wait(crew.submit("/v1/briefs", [{**BRIEF, "seed": 100 + i} for i in range(3)]), 900)
        assert len(set().union(*crew.seen.values())) == 3, "each worker warmed up on one brief"
        crew.seen.clear()
        ids = crew.submit("/v1/briefs", [{**BRIEF, "seed": i} for i in range(9)])

        def mid_step(run) -> bool:  # a step started and not finished
            with crew.db.session() as s:
                return any(step.status == "running" for step in repo.list_steps(s, run.id))

        killed_at, pid, held = _kill_a_worker_mid_run(crew, ids, mid_step)
        runs = crew.wait(ids, 600)
        _check_takeover(crew, runs, killed_at, pid, held)
        for run in runs:  # every step's assets stored exactly once
            slots = Counter((a.step_id, a.name) for a in crew.assets(run.id))
            assert slots and max(slots.values()) == 1, slots
