"""Briefs as jobs against a real uvicorn server: the run, its live events, idempotency, cancel,
assets with lineage and byte ranges, and ownership (another key sees nothing)."""
from __future__ import annotations

import io

import soundfile as sf
from PIL import Image

from agent.service import events as stored
from tests.fixtures.server import read_sse

SMALL_BRIEF = {
    "goal": "announce a lighthouse museum opening", "audience": "families", "style": "watercolour",
    "deliverables": [
        {"kind": "image", "width": 64, "height": 64, "steps": 2},
        {"kind": "caption", "of": 0},
        {"kind": "narration", "text": "The lighthouse museum opens on Saturday."},
    ],
}


def test_a_brief_runs_to_success_with_its_events_and_assets(api):
    with api.client(api.key()) as client:
        created = client.post("/v1/briefs", json=SMALL_BRIEF)
        assert created.status_code == 202, created.text
        run = created.json()
        assert run["status"] in ("queued", "running") and run["kind"] == "brief"
        with client.stream("GET", f"/v1/runs/{run['id']}/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = list(read_sse(stream))
        kinds = [e["event"] for e in events]
        assert kinds[0] == "queued" and kinds[-1] == "succeeded", kinds
        assert "step" in kinds
        ids = [int(e["id"]) for e in events]
        assert ids == [e["id"] for e in stored.since(api.rt.db, run["id"])]  # every stored event, in order
        done = client.get(f"/v1/runs/{run['id']}").json()
        assert done["status"] == "succeeded" and done["plan"]["kind"] == "brief"
        assert {s["status"] for s in done["steps"]} == {"succeeded"}
        kinds = {a["kind"] for a in done["assets"] if a["selected"]}
        assert {"image", "audio"} <= kinds

        # Replay: Last-Event-ID gives exactly the events after it, ending with the terminal one.
        middle = events[len(events) // 2]["id"]
        with client.stream("GET", f"/v1/runs/{run['id']}/events", headers={"Last-Event-ID": middle}) as stream:
            replayed = list(read_sse(stream))
        assert [e["id"] for e in replayed] == [e["id"] for e in events if int(e["id"]) > int(middle)]


def test_assets_have_lineage_scores_and_serve_bytes_with_ranges(api):
    with api.client(api.key()) as client:
        run = api.wait(client, client.post("/v1/briefs", json=SMALL_BRIEF).json()["id"])
        image = next(a for a in run["assets"] if a["kind"] == "image" and a["selected"])
        audio = next(a for a in run["assets"] if a["kind"] == "audio" and a["selected"])
        meta = client.get(f"/v1/assets/{image['id']}").json()
        assert meta["lineage"]["run_id"] == run["id"] and meta["lineage"]["tool"] == "generate_image"
        assert meta["lineage"]["seed"] is not None and meta["lineage"]["model_id"]
        assert {s["metric"] for s in meta["scores"]}, "the critic's scores are listed"
        png = client.get(f"/v1/assets/{image['id']}/content")
        assert png.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(png.content)).size == (64, 64)
        whole = client.get(f"/v1/assets/{audio['id']}/content")
        assert whole.headers["content-type"] == "audio/wav" and whole.headers["accept-ranges"] == "bytes"
        samples, rate = sf.read(io.BytesIO(whole.content))
        assert len(samples) / rate > 1.0
        part = client.get(f"/v1/assets/{audio['id']}/content", headers={"Range": "bytes=10-109"})
        assert part.status_code == 206 and part.content == whole.content[10:110]
        assert part.headers["content-range"] == f"bytes 10-109/{len(whole.content)}"


def test_the_same_idempotency_key_and_body_return_the_same_run(api):
    with api.client(api.key()) as client:
        first = client.post("/v1/briefs", json=SMALL_BRIEF, headers={"Idempotency-Key": "launch-42"})
        again = client.post("/v1/briefs", json=SMALL_BRIEF, headers={"Idempotency-Key": "launch-42"})
        assert first.status_code == 202 and again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        changed = client.post("/v1/briefs", json={**SMALL_BRIEF, "goal": "something else"},
                              headers={"Idempotency-Key": "launch-42"})
        assert changed.status_code == 422 and changed.json()["error"]["code"] == "idempotency_mismatch"
        other = client.post("/v1/briefs", json=SMALL_BRIEF, headers={"Idempotency-Key": "launch-43"})
        assert other.json()["id"] != first.json()["id"]
        assert len(client.get("/v1/runs").json()["runs"]) == 2
        api.wait(client, first.json()["id"])
        api.wait(client, other.json()["id"])


def test_another_key_gets_404_for_every_object_and_sees_empty_lists(api):
    owner, stranger = api.key("owner"), api.key("stranger")
    with api.client(owner) as mine, api.client(stranger) as theirs:
        run = api.wait(mine, mine.post("/v1/briefs", json=SMALL_BRIEF).json()["id"])
        asset = run["assets"][0]["id"]
        for path in (f"/v1/runs/{run['id']}", f"/v1/runs/{run['id']}/events", f"/v1/assets/{asset}",
                     f"/v1/assets/{asset}/content"):
            assert theirs.get(path).status_code == 404, path
            assert mine.get(path).status_code in (200, 206), path
        assert theirs.post(f"/v1/runs/{run['id']}/cancel").status_code == 404
        assert theirs.get("/v1/runs").json() == {"runs": []}
        # The same brief from the other key is made afresh: results are never shared between keys.
        copy = api.wait(theirs, theirs.post("/v1/briefs", json=SMALL_BRIEF).json()["id"])
        assert not any(s.get("cached") for s in copy["steps"])
        mine_ids = {a["id"] for a in run["assets"]}
        for asset in copy["assets"]:
            meta = theirs.get(f"/v1/assets/{asset['id']}").json()
            assert meta["lineage"]["cached_from"] is None and not (set(meta["lineage"]["inputs"]) & mine_ids)


def test_cancel_stops_a_queued_run_at_once_and_a_running_one_between_steps(api):
    heavy = {"goal": "a harbour at dawn", "deliverables": [{"kind": "image", "width": 64, "height": 64, "steps": 2,
                                                            "count": 4}] * 3}
    with api.client(api.key()) as client:
        running = client.post("/v1/briefs", json=heavy).json()["id"]
        queued = client.post("/v1/briefs", json=heavy).json()["id"]  # one worker: this one waits
        with client.stream("GET", f"/v1/runs/{running}/events") as stream:
            for event in read_sse(stream):
                if event["event"] == "status":
                    break
        assert client.post(f"/v1/runs/{queued}/cancel").json()["status"] == "cancelled"
        assert client.post(f"/v1/runs/{running}/cancel").status_code == 202
        finished = api.wait(client, running)
        assert finished["status"] == "cancelled"
        assert any(s["status"] != "succeeded" for s in finished["steps"]) or len(finished["steps"]) < 12
        assert client.get(f"/v1/runs/{queued}").json()["steps"] == []
