"""What the load suite reads: each key gets finished runs with assets and scores, sessions with
messages, and enough cancelled runs that a list of runs is a full page (50). Made through the API
before the clock starts; not measured."""
from __future__ import annotations

import httpx

from evals.load_clients import CHEAP_BRIEF, TERMINAL, KeyData

# A small real brief: a 64 px picture (the critic may revise it), its caption and a narration.
SEED_BRIEF = {"goal": "a lighthouse at night", "seed": 3, "deliverables": [
    {"kind": "image", "width": 64, "height": 64, "steps": 2}, {"kind": "caption", "of": 0},
    {"kind": "narration", "text": "The lamp turns all night long."}]}
PAGE = 50


def seed_key(base_url: str, key: str, finished: int = 5, sessions: int = 3) -> KeyData:
    """`finished` runs of SEED_BRIEF (the first computes, the rest come from the key's tool-call cache),
    `sessions` sessions each with a cancelled turn, and cancelled briefs up to a page of runs."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=600) as client:
        runs = [_finished(client) for _ in range(finished)]
        assets = [a["id"] for run in runs for a in client.get(f"/v1/runs/{run}").json()["assets"]]
        session_ids = [_session(client) for _ in range(sessions)]
        listed = len(client.get("/v1/runs", params={"limit": PAGE}).json()["runs"])
        for _ in range(PAGE - listed):
            _cancelled(client, "/v1/briefs", CHEAP_BRIEF)
    if not assets:
        raise RuntimeError("seeding made no assets: the seed brief failed")
    return KeyData(key=key, runs=runs, assets=assets, sessions=session_ids)


def _finished(client: httpx.Client) -> str:
    response = client.post("/v1/briefs", json=SEED_BRIEF)
    response.raise_for_status()
    run_id = response.json()["id"]
    _wait(client, run_id)
    run = client.get(f"/v1/runs/{run_id}").json()
    if run["status"] != "succeeded":
        raise RuntimeError(f"seed run {run_id} {run['status']}: {run['error']}")
    return run_id


def _session(client: httpx.Client) -> str:
    session_id = client.post("/v1/sessions", json={"title": "load test"}).json()["id"]
    _cancelled(client, f"/v1/sessions/{session_id}/messages", {"content": "a short story about a kite, one scene"})
    return session_id


def _cancelled(client: httpx.Client, path: str, body: dict) -> None:
    response = client.post(path, json=body)
    response.raise_for_status()
    run_id = response.json()["id"]
    client.post(f"/v1/runs/{run_id}/cancel").raise_for_status()
    _wait(client, run_id)


def _wait(client: httpx.Client, run_id: str) -> None:
    with client.stream("GET", f"/v1/runs/{run_id}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:") and line.split(":", 1)[1].strip() in TERMINAL:
                return
