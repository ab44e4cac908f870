"""Accessibility narration as an API job against a real uvicorn server: library paths inside the
configured roots, uploaded files, per-item status, outputs served as the key's assets."""
from __future__ import annotations

import webvtt

from tests.fixtures.narrate_media import SPEECH, SPEECH_MAX_WER, border, scene, speech_wav
from tools.metrics import word_errors


def test_a_library_job_describes_images_and_audio_and_serves_the_outputs(api, tmp_path, models):
    library = tmp_path / "library"
    (library / "photos").mkdir(parents=True)
    scene(library / "photos" / "harbour.png")
    border(library / "photos" / "rule.png")
    speech_wav(library / "welcome.wav", models)
    (tmp_path / "secret.png").write_bytes(b"not yours")
    api.rt.settings.narration.library_roots = [library]
    with api.client(api.key()) as client, api.client(api.key("other")) as other:
        outside = client.post("/v1/narrations", json={"paths": [str(tmp_path / "secret.png")]})
        assert outside.status_code == 422 and "inside the library roots" in outside.json()["error"]["message"]
        escape = client.post("/v1/narrations", json={"paths": ["../secret.png"]})
        assert escape.json()["error"]["message"] == "../secret.png: no such file or folder inside the library roots"

        job = client.post("/v1/narrations", json={"paths": ["photos", "welcome.wav"]})
        assert job.status_code == 202, job.text
        job_id = job.json()["id"]
        assert api.wait(client, job_id)["status"] == "succeeded"
        view = client.get(f"/v1/narrations/{job_id}").json()
        items = {item["name"].split("/")[-1]: item for item in view["items"]}
        assert set(items) == {"harbour.png", "rule.png", "welcome.wav"}
        assert all(item["status"] == "done" for item in items.values())
        photo, rule, audio = items["harbour.png"], items["rule.png"], items["welcome.wav"]
        assert 0 < len(photo["data"]["alt"]) <= 150 and "1.1.1" in photo["wcag"]
        assert rule["data"]["decorative"] is True and rule["data"]["alt"] == ""
        vtt_id = audio["outputs"]["captions"]
        vtt = client.get(f"/v1/assets/{vtt_id}/content")
        assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
        cues = webvtt.from_string(vtt.text) if hasattr(webvtt, "from_string") else webvtt.read_buffer(vtt.text)
        heard = " ".join(c.text for c in cues)
        assert word_errors(SPEECH, heard).wer <= SPEECH_MAX_WER, (heard, SPEECH)
        assert other.get(f"/v1/narrations/{job_id}").status_code == 404
        assert other.get(f"/v1/assets/{vtt_id}/content").status_code == 404


def test_uploaded_files_are_narrated_and_a_broken_one_is_its_own_error(api, tmp_path):
    photo = scene(tmp_path / "upload.png").read_bytes()
    with api.client(api.key()) as client:
        job = client.post("/v1/narrations/upload", files=[("files", ("beach photo.png", photo, "image/png")),
                                                         ("files", ("broken.png", photo[:200], "image/png"))])
        assert job.status_code == 202, job.text
        assert api.wait(client, job.json()["id"])["status"] == "succeeded"
        items = client.get(f"/v1/narrations/{job.json()['id']}").json()["items"]
        statuses = sorted((i["status"], bool(i["error"])) for i in items)
        assert statuses == [("done", False), ("failed", True)]
        assert all("\n" not in (i["error"] or "") for i in items)
