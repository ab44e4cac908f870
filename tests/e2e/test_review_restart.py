"""A run awaiting review survives a real server process killed with SIGKILL: the restarted server
does not resume it on its own, and an approve continues it from its checkpoint to the end, with
every step executed once (make test-slow: two server starts)."""
from __future__ import annotations

import httpx
import pytest

from evals.serverproc import SMALL_RUNS_ENV, ServerProcess, create_keys, stage
from tests.fixtures.server import read_sse

TURN = {"content": "a story about a fox in a forest, one scene", "seed": 3, "review": True}


@pytest.mark.slow
def test_a_paused_run_survives_sigkill_and_continues_after_approve(tmp_path):
    with stage(env={**SMALL_RUNS_ENV, "STORYLOOM_CRITIC__MAX_ROUNDS": "0"}) as place:  # no revisions: one pass
        server = ServerProcess(place.env, tmp_path / "server.log")
        server.start()
        try:
            key = create_keys(place.env, ["restart"])[0]
            with _client(server, key) as client:
                sid = client.post("/v1/sessions", json={}).json()["id"]
                run_id = client.post(f"/v1/sessions/{sid}/messages", json=TURN).json()["id"]
                with client.stream("GET", f"/v1/runs/{run_id}/events", timeout=300) as stream:
                    next(e for e in read_sse(stream) if e["event"] == "awaiting_review")
            server.kill()
            server.start()
            with _client(server, key) as client:
                assert client.get(f"/v1/runs/{run_id}").json()["status"] == "awaiting_review"
                assert client.post(f"/v1/runs/{run_id}/approve").status_code == 202
                with client.stream("GET", f"/v1/runs/{run_id}/events", params={"after": 0}, timeout=600) as stream:
                    seen = list(read_sse(stream))
                run = client.get(f"/v1/runs/{run_id}").json()
        finally:
            server.stop()
    assert run["status"] == "succeeded", run["error"]
    types = [e["event"] for e in seen]
    assert "resumed" not in types and types.count("awaiting_review") == 1
    executed = sorted(e["data"]["step"] for e in seen if e["event"] == "step" and e["data"]["status"] == "succeeded")
    assert executed == sorted(s["id"] for s in run["plan"]["steps"])


def _client(server: ServerProcess, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
