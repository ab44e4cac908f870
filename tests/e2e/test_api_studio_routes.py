"""The endpoints the Studio added, over HTTP against a real server on SQLite and PostgreSQL: the page
itself, renaming a session, retrying a failed run (the cache answers what succeeded before), a run's
delivered files (only what its manifest lists), and a story's storyboard. Another key gets 404."""
from __future__ import annotations

import pytest

NARRATION = "The lighthouse museum opens on Saturday, with guided tours of the lamp room every hour."


@pytest.fixture
def small(api):
    """Small, fast media; the LLM is a closed port, so storyboards are the deterministic ones."""
    story = api.rt.settings.story
    story.image_size, story.image_steps, story.video_size, story.video_fps = 64, 2, 64, 4
    api.rt.settings.llm.base_url, api.rt.settings.llm.timeout = "http://127.0.0.1:9/v1", 2
    return api


def test_the_page_is_served_with_a_strict_policy(api):
    with api.client() as anyone:
        page = anyone.get("/")
        script = anyone.get("/studio/js/main.js")
        missing = [anyone.get(path).status_code for path in ("/studio/nope.js", "/studio/../pyproject.toml",
                                                              "/studio/%2e%2e/routes/studio.py")]
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert '<script type="module" src="/studio/js/main.js">' in page.text
    assert script.headers["content-type"].startswith("text/javascript")
    assert missing == [404, 404, 404]


def test_a_session_is_renamed_by_its_owner_only(api):
    with api.client(api.key("a")) as mine, api.client(api.key("b")) as theirs:
        sid = mine.post("/v1/sessions", json={"title": "Seal stories"}).json()["id"]
        renamed = mine.patch(f"/v1/sessions/{sid}", json={"title": "  Pip and   the lighthouse "})
        assert renamed.status_code == 200 and renamed.json()["title"] == "Pip and the lighthouse"
        assert mine.get("/v1/sessions").json()["sessions"][0]["title"] == "Pip and the lighthouse"
        assert theirs.patch(f"/v1/sessions/{sid}", json={"title": "mine now"}).status_code == 404
        blank = mine.patch(f"/v1/sessions/{sid}", json={"title": "   "})
        assert blank.status_code == 422 and "title" in blank.json()["error"]["message"]
        assert mine.patch(f"/v1/sessions/{sid}", json={"title": "x", "owner": "me"}).status_code == 422


def test_a_failed_run_is_retried_and_the_cache_answers_what_succeeded(small):
    api = small
    brief = {"goal": "announce the lighthouse museum", "deliverables": [
        {"kind": "image", "width": 64, "height": 64, "steps": 2},
        {"kind": "narration", "text": NARRATION, "max_seconds": 0.5}]}  # cannot fit: the narration fails
    with api.client(api.key("a")) as mine, api.client(api.key("b")) as theirs:
        first = api.wait(mine, mine.post("/v1/briefs", json=brief).json()["id"])
        assert first["status"] == "failed"
        assert theirs.post(f"/v1/runs/{first['id']}/retry").status_code == 404
        retry = mine.post(f"/v1/runs/{first['id']}/retry")
        assert retry.status_code == 202 and retry.json()["id"] != first["id"]
        assert retry.json()["request"] == first["request"]
        second = api.wait(mine, retry.json()["id"])
    cached = {s["tool"]: s["cached"] for s in second["steps"]}
    assert cached == {"generate_image": True, "speak": False}  # only what failed was computed again
    assert second["status"] == "failed" and "slot" in second["error"]


def test_a_story_serves_its_storyboard_and_only_the_files_its_manifest_lists(small):
    api = small
    with api.client(api.key("a")) as mine, api.client(api.key("b")) as theirs:
        sid = mine.post("/v1/sessions", json={}).json()["id"]
        run = mine.post(f"/v1/sessions/{sid}/messages", json={"content": "a story about a kite, one scene"}).json()
        assert mine.get(f"/v1/runs/{run['id']}/files/manifest.json").status_code in (200, 404)
        done = api.wait(mine, run["id"])
        assert done["status"] == "succeeded", done["error"]
        board = mine.get(f"/v1/runs/{run['id']}/storyboard").json()
        assert board["title"] and [s["number"] for s in board["scenes"]] == [1] and board["scenes"][0]["picture"]
        assert theirs.get(f"/v1/runs/{run['id']}/storyboard").status_code == 404
        refused = mine.post(f"/v1/runs/{run['id']}/retry")
        assert refused.status_code == 409 and "succeeded" in refused.json()["error"]["message"]

        def get(name: str, client=mine):
            return client.get(f"/v1/runs/{run['id']}/files/{name}")

        manifest = get("manifest.json").json()
        assert {a["path"] for a in manifest["assets"]} >= {"image-1.png", "speech-1.wav", "story.mp4", "story.vtt"}
        book = get("storybook.html")
        assert book.status_code == 200 and "<main>" in book.text
        assert "sandbox" in book.headers["content-security-policy"]  # opened on its own, it runs nothing
        assert get("story.vtt").headers["content-type"].startswith("text/vtt")
        assert get("image-1.png").content[:4] == b"\x89PNG"
        (api.rt.settings.outputs_path / run["id"] / "notes.txt").write_text("not delivered")
        refused = [get(name).status_code for name in ("notes.txt", "..%2Fstoryloom.db", "%2e%2e/%2e%2e/etc/passwd",
                                                      "/etc/passwd", "candidates/%2e%2e/notes.txt")]
        assert refused == [404] * 5
        assert get("manifest.json", theirs).status_code == 404
