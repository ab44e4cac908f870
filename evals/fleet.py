"""A deployment on one machine, as the README's deployment section runs it: one PostgreSQL database, an
API server that only serves (`storyloom serve --workers 0`) and M worker processes (`storyloom worker`).
Used by the scale tests and by `python -m evals.bench --scale`.

Runs are read back from the database (memory.repo), so a test sees which worker holds a run (its lease's
owner names the worker's pid), how far it got, and when it ended.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from evals.serverproc import SMALL_RUNS_ENV, ServerProcess, Stage, WorkerProcess, create_keys, stage
from memory import Database, open_database, repo
from memory.tables import TERMINAL_STATUSES

# Small runs (see SMALL_RUNS_ENV), scored but never revised, and short leases so a takeover is quick.
FLEET_ENV = {**SMALL_RUNS_ENV, "STORYLOOM_CRITIC__MAX_ROUNDS": "0", "STORYLOOM_SERVER__LEASE_S": "4"}


def worker_pid(owner: str | None) -> int | None:
    """The pid in a lease owner (`host:pid namespace:pid:nonce`)."""
    try:
        return int((owner or "").rsplit(":", 2)[1])
    except (IndexError, ValueError):
        return None


@dataclass
class Fleet:
    stage: Stage
    api: ServerProcess
    workers: list[WorkerProcess]
    db: Database
    key: str
    seen: dict[str, set[int]] = field(default_factory=dict)  # run id -> pids of the workers seen holding it

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.api.base_url, headers={"Authorization": f"Bearer {self.key}"}, timeout=60)

    def submit(self, path: str, bodies: list[dict]) -> list[str]:
        with self.client() as http:
            answers = [http.post(path, json=body) for body in bodies]
        bad = [a.text for a in answers if a.status_code != 202]
        if bad:
            raise RuntimeError(f"submissions refused: {bad[0][:300]}")
        return [a.json()["id"] for a in answers]

    def runs(self, ids: list[str]) -> list:
        with self.db.session() as s:
            runs = [repo.get_run(s, run_id) for run_id in ids]
        for run in runs:
            if run.status == "running" and worker_pid(run.lease_owner):
                self.seen.setdefault(run.id, set()).add(worker_pid(run.lease_owner))
        return runs

    def assets(self, run_id: str) -> list:
        with self.db.session() as s:
            return repo.list_assets(s, run_id=run_id)

    def event_types(self, run_id: str) -> list[str]:
        with self.db.session() as s:
            return [e.type for e in repo.list_events(s, run_id=run_id)]

    def wait(self, ids: list[str], timeout: float, until=None) -> list:
        """Poll until every run ended (or `until(runs)` holds); the runs at that moment."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.runs(ids)
            if until(runs) if until else all(r.status in TERMINAL_STATUSES for r in runs):
                return runs
            time.sleep(0.05)
        raise TimeoutError(f"runs not done within {timeout:.0f} s: {[(r.id[:8], r.status) for r in self.runs(ids)]}")

    def worker(self, pid: int | None) -> WorkerProcess | None:
        return next((w for w in self.workers if w.pid == pid), None)


@contextmanager
def fleet(database_url: str, workers: int, log_dir: Path, env: dict[str, str] | None = None) -> Iterator[Fleet]:
    """An API-only server and `workers` worker processes on `database_url` (already migrated)."""
    with ExitStack() as stack:
        st = stack.enter_context(stage(database_url=database_url, env={**FLEET_ENV, **(env or {})}))
        procs = [WorkerProcess(st.env, log_dir / f"worker-{i}.log") for i in range(workers)]
        api = ServerProcess(st.env, log_dir / "api.log", args=("--workers", "0"))
        for proc in (api, *procs):
            stack.callback(proc.kill)
        for proc in procs:
            proc.launch()  # the workers start while the key is made and the API server starts
        [key] = create_keys(st.env, ["fleet"])
        api.start()
        for proc in procs:
            proc.ready()
        db = open_database(database_url)
        stack.callback(db.close)
        yield Fleet(st, api, procs, db, key)
