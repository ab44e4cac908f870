"""Durable runs: a server killed with SIGKILL in the middle of a run and started again finishes the
run from its last checkpoint, with exactly the assets an uninterrupted run makes (none lost, none
duplicated) and without redoing the steps that had finished."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import httpx

from evals.chaos_kinds import BRIEF
from tests.fixtures.server import free_port, read_sse


def _start(env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start in 120 s")


def _key(env: dict) -> str:
    out = subprocess.run([sys.executable, "-m", "api.cli", "keys", "create", "crash-test"], env=env,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def _follow(client: httpx.Client, run_id: str, until) -> list[dict]:
    seen = []
    with client.stream("GET", f"/v1/runs/{run_id}/events", timeout=300) as response:
        for event in read_sse(response):
            seen.append(event)
            if until(event):
                break
    return seen


def _assets(client: httpx.Client, run: dict) -> Counter:
    return Counter((a["role"], client.get(f"/v1/assets/{a['id']}").json()["sha256"]) for a in run["assets"])


def _crashed_run(env: dict) -> tuple[dict, Counter, dict]:
    """The brief on a server process that is SIGKILLed after the first finished step, then restarted."""
    port = free_port()
    key = _key(env)
    server = _start(env, port)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"})
    try:
        run_id = client.post("/v1/briefs", json=BRIEF).json()["id"]
        _follow(client, run_id, lambda e: e["event"] == "step" and e["data"]["status"] == "succeeded")
        before = client.get(f"/v1/runs/{run_id}").json()
        assert before["status"] == "running", "the run must still be going when the server dies"
        done_before = {s["key"]: s for s in before["steps"] if s["status"] == "succeeded"}
        server.send_signal(signal.SIGKILL)
        server.wait(30)
        server = _start(env, port)
        events = _follow(client, run_id, lambda e: e["event"] in ("succeeded", "failed", "cancelled"))
        run = client.get(f"/v1/runs/{run_id}").json()
        return run, _assets(client, run), {"events": events, "done_before": done_before}
    finally:
        client.close()
        server.kill()
        server.wait(30)


def _reference(tmp_path, models) -> tuple[dict, Counter]:
    """The same brief, uninterrupted, on an in-process server with its own SQLite database."""
    from agent.runtime import Runtime
    from agent.settings import Settings
    from memory import AssetStore, open_database
    from tests.fixtures.server import serving

    settings = Settings(data_dir=tmp_path / "reference", database_url=None)
    settings.critic.max_rounds = 0
    rt = Runtime(settings=settings, profile="offline", db=open_database(settings.db_url),
                 store=AssetStore(settings.assets_path), models=models)
    with serving(rt) as api, api.client(api.key()) as client:
        run = api.wait(client, client.post("/v1/briefs", json=BRIEF).json()["id"])
        return run, _assets(client, run)


def test_a_killed_server_resumes_its_run_with_exactly_the_expected_assets(db_env, models, tmp_path):
    clean, clean_assets = _reference(tmp_path, models)
    env = {**db_env, "STORYLOOM_CRITIC__MAX_ROUNDS": "0", "PYTHONPATH": os.getcwd()}
    crashed, crashed_assets, seen = _crashed_run(env)
    assert clean["status"] == "succeeded", clean["error"]
    assert crashed["status"] == "succeeded", crashed["error"]
    assert seen["done_before"], "at least one step had finished before the kill"
    assert any(e["event"] == "resumed" for e in seen["events"])
    # Same roles and bytes: nothing lost, nothing duplicated. Comparing bytes is sound here: both runs are on
    # this machine, seeded alike, with the thread counts both processes take from the same environment.
    assert crashed_assets == clean_assets
    after = {s["key"]: s for s in crashed["steps"]}
    for key, step in seen["done_before"].items():  # finished steps were not redone
        assert after[key]["duration_s"] == step["duration_s"]
