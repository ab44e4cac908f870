"""Chat sessions over HTTP against a real uvicorn server, on SQLite and PostgreSQL: a turn streamed
as server-sent events, an edit turn that changes one scene and keeps the other's bytes, the
session's messages, and ownership (another key sees none of it)."""
from __future__ import annotations

import pytest

from tests.fixtures.server import read_sse
from tests.helpers import small_stories


@pytest.fixture
def chat_api(api):
    """Small, fast stories; the LLM is a closed port, so storyboards are the deterministic ones."""
    small_stories(api.rt.settings, critic_rounds=None)
    return api


def _scene_images(client, run: dict) -> dict[str, str]:
    images = [a for a in run["assets"] if a["kind"] == "image" and a["selected"]]
    return {a["role"].split(".")[0]: client.get(f"/v1/assets/{a['id']}").json()["sha256"] for a in images}


def test_a_chat_turn_streams_and_an_edit_keeps_the_other_scene(chat_api):
    api = chat_api
    with api.client(api.key()) as client:
        session = client.post("/v1/sessions", json={"title": "Seal stories"})
        assert session.status_code == 201
        sid = session.json()["id"]
        turn = {"content": "a bedtime story about a lighthouse keeper and a seal, two scenes", "seed": 4}
        with client.stream("POST", f"/v1/sessions/{sid}/messages", json=turn,
                           headers={"Accept": "text/event-stream"}) as stream:
            assert stream.status_code == 200
            events = list(read_sse(stream))
        assert events[-1]["event"] == "succeeded", events[-3:]
        first_run = client.get("/v1/runs", params={"limit": 1}).json()["runs"][0]["id"]
        first = client.get(f"/v1/runs/{first_run}").json()

        change = {"content": "make the seal wear a red scarf in scene 2"}
        edit = client.post(f"/v1/sessions/{sid}/messages", json=change)
        assert edit.status_code == 202
        second = api.wait(client, edit.json()["id"])
        assert second["status"] == "succeeded", second["error"]
        before, after = _scene_images(client, first), _scene_images(client, second)
        assert set(before) == set(after) == {"image-1", "image-2"}
        assert after["image-1"] == before["image-1"] and after["image-2"] != before["image-2"]
        prompt = next(s for s in second["plan"]["steps"] if s["id"] == "image-2")["args"]["prompt"]
        assert "red scarf" in prompt

        view = client.get(f"/v1/sessions/{sid}").json()
        assert [m["role"] for m in view["messages"]] == ["user", "assistant", "user", "assistant"]
        assert view["messages"][3]["run_id"] == second["id"]
        bad = client.post(f"/v1/sessions/{sid}/messages", json={"content": "in scene 7 add a rainbow"})
        assert bad.status_code == 422 and "scene 7" in bad.json()["error"]["message"]


def test_sessions_belong_to_their_key(api):
    with api.client(api.key("a")) as mine, api.client(api.key("b")) as theirs:
        sid = mine.post("/v1/sessions", json={}).json()["id"]
        assert mine.get(f"/v1/sessions/{sid}").status_code == 200
        assert theirs.get(f"/v1/sessions/{sid}").status_code == 404
        assert theirs.post(f"/v1/sessions/{sid}/messages", json={"content": "hello"}).status_code == 404
        assert theirs.get("/v1/sessions").json() == {"sessions": []}
        assert [s["id"] for s in mine.get("/v1/sessions").json()["sessions"]] == [sid]
        too_long = mine.post(f"/v1/sessions/{sid}/messages", json={"content": "x" * 5000})
        assert too_long.status_code == 422


def test_a_key_with_too_many_runs_in_flight_gets_429(api):
    api.rt.settings.server.max_in_flight_per_key = 1
    brief = {"goal": "a quiet harbour", "deliverables": [{"kind": "image", "width": 64, "height": 64, "steps": 2}]}
    with api.client(api.key()) as client, api.client(api.key("other")) as other:
        first = client.post("/v1/briefs", json=brief)
        assert first.status_code == 202
        refused = client.post("/v1/briefs", json=brief)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert other.post("/v1/briefs", json=brief).status_code == 202  # limits are per key
        api.wait(client, first.json()["id"])
        assert client.post("/v1/briefs", json=brief).status_code == 202
