"""Redo one scene of a finished 4-scene story over HTTP (a real uvicorn server, SQLite, offline models):
only that scene's steps and the video run, counted from the new run's steps; locks and bad input."""
from __future__ import annotations

import pytest

from tests.fixtures.server import serving
from tests.helpers import small_stories

STORY = {"content": "a bedtime story about a lighthouse keeper and a seal, four scenes", "seed": 4}


@pytest.fixture
def small_api(runtime):
    """Small, fast stories judged but not revised; the LLM is a closed port (deterministic storyboards)."""
    small_stories(runtime.settings)
    with serving(runtime) as running:
        yield running


def _delivered(client, run: dict) -> dict[str, str]:
    """Scene step -> sha256 of what the run delivered for it."""
    chosen = [a for a in run["assets"] if a["selected"] and a["kind"] in ("image", "audio")]
    return {a["role"].split(".")[0]: client.get(f"/v1/assets/{a['id']}").json()["sha256"] for a in chosen}


def _error(response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]["message"]


@pytest.mark.slow  # two 4-scene runs judged by the critic: about a minute
def test_a_redo_runs_only_its_scene_and_the_video(small_api):
    api = small_api
    with api.client(api.key()) as client:
        sid = client.post("/v1/sessions", json={}).json()["id"]
        queued = client.post(f"/v1/sessions/{sid}/messages", json=STORY).json()
        # Not finished yet (queued or running): a one-line conflict.
        assert "finished story" in _error(client.post(f"/v1/runs/{queued['id']}/scenes/2/redo"), 409)
        first = api.wait(client, queued["id"])
        assert first["status"] == "succeeded", first["error"]
        assert [s["key"] for s in first["steps"]].count("video") == 1 and first["steps_reused"] == 0

        assert "scene" in _error(client.post(f"/v1/runs/{first['id']}/scenes/5/redo"), 422)
        assert "seed" in _error(client.post(f"/v1/runs/{first['id']}/scenes/2/redo", json={"seed": -1}), 422)
        assert "colour" in _error(client.post(f"/v1/runs/{first['id']}/scenes/2/redo", json={"colour": 1}), 422)
        locked = client.post(f"/v1/runs/{first['id']}/scenes/2/lock")
        assert locked.status_code == 200 and [s["locked"] for s in locked.json()["scenes"]] == [0, 1, 0, 0]
        assert _error(client.post(f"/v1/runs/{first['id']}/scenes/2/redo"), 409) == "scene 2 is locked"
        assert not client.post(f"/v1/runs/{first['id']}/scenes/2/unlock").json()["scenes"][1]["locked"]

        redo = client.post(f"/v1/runs/{first['id']}/scenes/2/redo", json={})
        assert redo.status_code == 202, redo.text
        second = api.wait(client, redo.json()["id"])
        assert second["status"] == "succeeded", second["error"]
        assert second["session_id"] == sid
        computed = sorted(s["key"] for s in second["steps"] if not s["cached"])
        assert computed == ["image-2", "speech-2", "video"]
        assert second["steps_reused"] == 6
        before, after = _delivered(client, first), _delivered(client, second)
        assert {k for k in before if before[k] != after[k]} == {"image-2", "speech-2"}
        board = client.get(f"/v1/runs/{second['id']}/storyboard").json()
        old_board = client.get(f"/v1/runs/{first['id']}/storyboard").json()
        assert [s["seed"] for s in board["scenes"]] != [s["seed"] for s in old_board["scenes"]]
        assert [s["seed"] for s in board["scenes"]][::2] == [5, 7] and board["source"] == "redo"


def test_bad_input_is_one_line_and_pins_are_stored(runtime):
    """HTTP contract only (no worker executes runs): 404, 409 and 422, and pins by PUT and by chat."""
    with serving(runtime, execute=False) as api, api.client(api.key("a")) as client, \
            api.client(api.key("b")) as other:
        sid = client.post("/v1/sessions", json={}).json()["id"]
        queued = client.post(f"/v1/sessions/{sid}/messages", json=STORY).json()["id"]
        redo = f"/v1/runs/{queued}/scenes/2/redo"
        assert "queued; only a finished story" in _error(client.post(redo), 409)
        assert "queued" in _error(client.post(f"/v1/runs/{queued}/scenes/1/lock"), 409)
        assert _error(other.post(redo), 404) == "no run with that id"
        assert "number" in _error(client.post(f"/v1/runs/{queued}/scenes/0/redo"), 422)
        assert "narration" in _error(client.post(redo, json={"narration": ""}), 422)
        assert "colour" in _error(client.post(redo, json={"colour": "red"}), 422)

        pins = client.put(f"/v1/sessions/{sid}/pins", json={"style": "watercolour,  soft light", "seed": 7})
        assert pins.status_code == 200 and pins.json() == {"style": "watercolour, soft light", "seed": 7}
        assert "seed" in _error(client.put(f"/v1/sessions/{sid}/pins", json={"seed": -3}), 422)
        assert "size" in _error(client.put(f"/v1/sessions/{sid}/pins", json={"size": 3}), 422)
        assert _error(other.put(f"/v1/sessions/{sid}/pins", json={}), 404) == "no session with that id"
        chat = client.post(f"/v1/sessions/{sid}/messages", json={"content": "unpin the seed"})
        assert chat.status_code == 200 and chat.json()["pins"] == {"style": "watercolour, soft light"}
        assert "seed" in _error(client.post(f"/v1/sessions/{sid}/messages", json={"content": "pin the seed x"}), 422)
        assert client.get(f"/v1/sessions/{sid}/pins").json() == {"style": "watercolour, soft light", "seed": None}
