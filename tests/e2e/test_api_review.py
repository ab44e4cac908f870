"""Review before rendering over HTTP, against a real uvicorn server: a chat turn with `review: true`
pauses after planning (nothing rendered), its storyboard is edited and approved, and the run renders
the edited board; bad edits get 422 naming the field, edits of a locked scene and of a run that does
not wait get 409; the pause survives a server restart; two approves at the same moment continue the
run once."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fixtures.postgres import HEAVY_BACKENDS
from tests.fixtures.server import read_sse, serving
from tests.helpers import small_stories

TURN = {"content": "a story about a fox in a forest, one scene", "seed": 3, "review": True}


@pytest.fixture
def small(db_runtime):
    """Small, fast stories; the LLM is a closed port, so storyboards are the deterministic ones."""
    small_stories(db_runtime.settings)
    return db_runtime


def _paused(client) -> tuple[str, dict]:
    """A reviewed chat turn followed to its awaiting_review event: (run id, the event's storyboard)."""
    sid = client.post("/v1/sessions", json={}).json()["id"]
    with client.stream("POST", f"/v1/sessions/{sid}/messages", json=TURN,
                       headers={"Accept": "text/event-stream"}) as stream:
        for event in read_sse(stream):
            assert event["event"] not in ("succeeded", "failed", "cancelled", "declined"), event
            if event["event"] == "awaiting_review":
                run_id = client.get("/v1/runs", params={"limit": 1}).json()["runs"][0]["id"]
                return run_id, event["data"]["storyboard"]
    raise AssertionError("the stream ended before the run paused")


def _error(response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]["message"]


@pytest.mark.parametrize("db_env", HEAVY_BACKENDS, indirect=True)  # PostgreSQL in make test-slow (budget)
def test_pause_edit_restart_and_two_approves_continue_once(small):
    with serving(small) as api:
        key = api.key()
        with api.client(key) as client:
            run_id, board = _paused(client)
            assert set(board) == {"title", "cast", "style", "scenes"}
            assert [set(s) for s in board["scenes"]] == [{"number", "narration", "picture", "seed", "locked"}]
            assert board["scenes"][0]["seed"] == 4 and board["scenes"][0]["locked"] is False  # the run's seed + 1
            assert all(set(c) == {"name", "look", "voice"} for c in board["cast"])
            _edit(client, run_id)
    with serving(small) as api, api.client(key) as client:  # a new app and runner: a server restart
        run = client.get(f"/v1/runs/{run_id}").json()
        assert run["status"] == "awaiting_review" and run["steps"] == []  # not resumed by itself, nothing rendered
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: client.post(f"/v1/runs/{run_id}/approve"), range(2)))
        assert [a.status_code for a in answers] == [202, 202] and {a.json()["id"] for a in answers} == {run_id}
        done = api.wait(client, run_id)
        assert done["status"] == "succeeded", done["error"]
        with client.stream("GET", f"/v1/runs/{run_id}/events", params={"after": 0}, timeout=60) as stream:
            seen = list(read_sse(stream))
        assert "awaiting review" in _error(client.patch(f"/v1/runs/{run_id}/storyboard", json={"title": "X"}), 409)
        again = client.post(f"/v1/runs/{run_id}/approve")  # a repeat answers with the run, continues nothing
        assert again.status_code == 202 and again.json()["status"] == "succeeded"
    assert done["title"] == "The Fox at Night"
    prompt = next(s for s in done["plan"]["steps"] if s["id"] == "image-1")["args"]["prompt"]
    assert prompt.startswith("a red fox under a full moon") and "Style: watercolour, soft light." in prompt
    types = [e["event"] for e in seen]
    assert types.count("awaiting_review") == 1 and types.count("queued") == 2  # created, then ONE approve
    executed = [e["data"]["step"] for e in seen if e["event"] == "step" and e["data"]["status"] == "succeeded"]
    steps = [s["id"] for s in done["plan"]["steps"]]
    assert sorted(executed) == sorted(steps)  # every step executed once, none twice
    assert sorted(s["key"] for s in done["steps"]) == sorted(steps)
    roles = [a["role"] for a in done["assets"]]
    assert len(roles) == len(set(roles))  # every output made once


def _edit(client, run_id: str) -> None:
    """Bad edits refused (422 naming the field, 409 for a locked scene), good ones merged."""
    url = f"/v1/runs/{run_id}/storyboard"
    assert "scenes.0.narration" in _error(client.patch(url, json={"scenes": [{"number": 1, "narration": " "}]}), 422)
    assert "scenes.0.number" in _error(client.patch(url, json={"scenes": [{"number": 2, "picture": "x"}]}), 422)
    assert "colour" in _error(client.patch(url, json={"colour": "red"}), 422)
    edit = {"title": "The Fox at Night", "style": "watercolour, soft light",
            "scenes": [{"number": 1, "picture": "a red fox under a full moon", "locked": True}]}
    changed = client.patch(url, json=edit)
    assert changed.status_code == 200, changed.text
    assert changed.json()["storyboard"]["scenes"][0]["locked"] is True
    locked = _error(client.patch(url, json={"scenes": [{"number": 1, "picture": "a grey fox"}]}), 409)
    assert "locked" in locked and "\n" not in locked
    unlocked = client.patch(url, json={"scenes": [{"number": 1, "picture": "a red fox under a full moon",
                                                   "locked": False}]})
    assert unlocked.status_code == 200 and unlocked.json()["storyboard"]["scenes"][0]["locked"] is False


@pytest.mark.parametrize("db_env", ["sqlite"], indirect=True)
def test_approving_a_run_that_never_paused_is_a_conflict(small):
    with serving(small, execute=False) as api, api.client(api.key()) as client:
        sid = client.post("/v1/sessions", json={}).json()["id"]
        run_id = client.post(f"/v1/sessions/{sid}/messages", json={**TURN, "review": False}).json()["id"]
        message = _error(client.post(f"/v1/runs/{run_id}/approve"), 409)
        assert message == "the run is not awaiting review; it is queued"
        assert _error(client.post("/v1/runs/nope/approve"), 404)


@pytest.mark.parametrize("db_env", ["sqlite"], indirect=True)
def test_a_paused_run_is_cancelled_at_once(small):
    with serving(small) as api, api.client(api.key()) as client:
        run_id, _ = _paused(client)
        cancelled = client.post(f"/v1/runs/{run_id}/cancel")
        assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
        assert _error(client.post(f"/v1/runs/{run_id}/approve"), 409).endswith("it is cancelled")
        with client.stream("GET", f"/v1/runs/{run_id}/events", params={"after": 0}, timeout=60) as stream:
            types = [e["event"] for e in read_sse(stream)]
    assert types[-1] == "cancelled" and types.count("cancelled") == 1
