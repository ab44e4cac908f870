"""Scale-out figures (issue 17) for `python -m evals.bench --scale`: workers on one PostgreSQL database.

  workers_speedup: six short briefs (a small picture and a spoken line) on two worker processes against
      one (wall time of one worker over that of two, from the first submission to the last run's end;
      each worker has loaded its models on a warm-up brief first, so the figure is throughput, not
      start-up);
  takeover_s: a worker SIGKILLed while it executes a run, to another worker claiming that run (at most the
      lease, FLEET_ENV's 4 s, plus a claim poll).
Both on a throw-away PostgreSQL cluster, with an API-only server (`serve --workers 0`) taking the briefs,
as the README's deployment section runs it. A benchmark, not a test: it prints figures.
"""
from __future__ import annotations

import os
import signal
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from evals.fleet import FLEET_ENV, Fleet, fleet, worker_pid
from evals.pgcluster import migrated_database, throwaway_cluster
from memory import repo

BRIEFS = 6
# Idle workers look for new runs this often (the setting's default is 0.5 s): runs this short would
# otherwise spend a good part of their time waiting to be noticed.
CLAIM_POLL_S = 0.1
TARGETS = {"workers_speedup": ">= 1.6", "takeover_s": f"<= {float(FLEET_ENV['STORYLOOM_SERVER__LEASE_S']) + 10:g}"}


def brief(seed: int) -> dict[str, Any]:
    """A short brief: a small picture and a spoken line (seeds differ, so the tool-call cache answers none)."""
    return {"goal": "a lighthouse at night", "seed": seed,
            "deliverables": [{"kind": "image", "width": 64, "height": 64, "steps": 2},
                             {"kind": "narration", "text": f"The lamp turns, night {seed}."}]}


def measure_scale(briefs: int = BRIEFS) -> dict[str, Any]:
    """{"workers_speedup", "takeover_s", "one_worker_s", "two_workers_s", "briefs", "lease_s"}."""
    with ExitStack() as stack:
        cluster = stack.enter_context(throwaway_cluster())
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="storyloom-scale-")))
        one = _throughput(migrated_database(cluster), 1, briefs, logs / "one")
        two, takeover = _throughput(migrated_database(cluster), 2, briefs, logs / "two", takeover=True)
    return {"workers_speedup": round(one / two, 2), "takeover_s": takeover, "one_worker_s": round(one, 2),
            "two_workers_s": round(two, 2), "briefs": briefs, "lease_s": float(FLEET_ENV["STORYLOOM_SERVER__LEASE_S"])}


def _throughput(url: str, workers: int, briefs: int, logs: Path, takeover: bool = False):
    logs.mkdir(parents=True)
    with fleet(url, workers, logs, {"STORYLOOM_SERVER__CLAIM_POLL_S": str(CLAIM_POLL_S)}) as crew:
        crew.wait(crew.submit("/v1/briefs", [brief(1000 + i) for i in range(workers)]), 900)  # warm-up
        started = time.monotonic()
        crew.wait(crew.submit("/v1/briefs", [brief(i) for i in range(briefs)]), 1800)
        took = time.monotonic() - started
        return (took, _takeover(crew)) if takeover else took


def _takeover(crew: Fleet) -> float:
    """Seconds from a worker's SIGKILL, mid-run, to another worker's claim of that run."""
    ids = crew.submit("/v1/briefs", [brief(2000 + i) for i in range(len(crew.workers))])
    runs = crew.wait(ids, 600, until=lambda runs: any(r.status == "running" and r.lease_expires_at for r in runs))
    victim = next(r for r in runs if r.status == "running" and r.lease_expires_at)
    os.kill(worker_pid(victim.lease_owner), signal.SIGKILL)
    killed = time.monotonic()
    crew.wait([victim.id], 120, until=lambda runs: runs[0].lease_token > victim.lease_token or
              runs[0].status != "running")
    took = time.monotonic() - killed
    crew.wait(ids, 600)
    with crew.db.session() as s:
        if repo.get_run(s, victim.id).status != "succeeded":
            raise RuntimeError("the run taken over did not succeed")
    return round(took, 2)
