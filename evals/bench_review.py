"""What a paused run costs: a real server process (`storyloom serve`, SQLite, small runs) with PAUSED
chat turns asked with `review: true`, all awaiting review; its CPU time (user + system, /proc) over
WINDOW_S seconds of nothing but waiting, as a percentage of one core (`paused_cpu_pct`).

A paused run holds no worker thread and no model: the figure is the idle server's own cost (its
workers polling an empty queue), and should stay near zero however many runs wait. Part of
`python -m evals.bench` (`--paused` for this figure alone).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx

from evals.serverproc import SMALL_RUNS_ENV, ServerProcess, create_keys, stage

PAUSED = 10
WINDOW_S = 5.0
TURN = {"content": "a story about a fox in a forest, one scene", "review": True}


def measure(paused: int = PAUSED, window_s: float = WINDOW_S) -> dict:
    with stage(env=SMALL_RUNS_ENV) as place, tempfile.TemporaryDirectory(prefix="storyloom-bench-") as logs:
        server = ServerProcess(place.env, Path(logs) / "server.log")
        server.start()
        try:
            key = create_keys(place.env, ["bench-review"])[0]
            with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"},
                              timeout=60) as client:
                runs = [_turn(client) for _ in range(paused)]
                _wait_paused(client, runs)
                time.sleep(1.0)  # the last pause's own bookkeeping is over
                cpu, started = server.cpu_seconds(), time.monotonic()
                time.sleep(window_s)
                used, wall = server.cpu_seconds() - cpu, time.monotonic() - started
                still = sum(client.get(f"/v1/runs/{r}").json()["status"] == "awaiting_review" for r in runs)
        finally:
            server.stop()
    return {"paused_runs": still, "paused_window_s": round(wall, 1), "paused_cpu_pct": round(100 * used / wall, 2)}


def _turn(client: httpx.Client) -> str:
    session = client.post("/v1/sessions", json={}).json()["id"]
    answer = client.post(f"/v1/sessions/{session}/messages", json=TURN)
    if answer.status_code != 202:
        raise SystemExit(f"bench: the turn was refused: {answer.text[:300]}")
    return answer.json()["id"]


def _wait_paused(client: httpx.Client, runs: list[str], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = [client.get(f"/v1/runs/{r}").json()["status"] for r in runs]
        if all(s == "awaiting_review" for s in statuses):
            return
        if any(s in ("succeeded", "failed", "cancelled", "declined") for s in statuses):
            raise SystemExit(f"bench: a reviewed run ended instead of pausing: {statuses}")
        time.sleep(0.5)
    raise SystemExit("bench: the runs did not all pause in time")
