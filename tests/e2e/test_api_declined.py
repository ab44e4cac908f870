"""An honest decline through the API: a chat message asking for what no tool does ends `declined`,
with the reason in the run, its terminal event and the assistant's reply."""
from tests.fixtures.server import read_sse

NOISE = ("I have a video file example.mp4, and I want to extract its audio track, reduce background noise, "
         "and then add a reverb effect.")


def test_a_message_storyloom_cannot_serve_is_declined_in_words(api):
    with api.client(api.key()) as client:
        session = client.post("/v1/sessions", json={}).json()
        created = client.post(f"/v1/sessions/{session['id']}/messages", json={"content": NOISE})
        assert created.status_code == 202, created.text
        run_id = created.json()["id"]
        with client.stream("GET", f"/v1/runs/{run_id}/events") as stream:
            kinds = [e["event"] for e in read_sse(stream)]
        assert kinds[-1] == "declined", kinds
        run = client.get(f"/v1/runs/{run_id}").json()
        assert run["status"] == "declined" and run["steps"] == [] and run["assets"] == []
        assert run["capability"]["supported"] is False
        assert run["capability"]["missing"] == ["noise reduction", "audio effects"]
        assert "no tool for noise reduction or audio effects" in run["error"]
        reply = client.get(f"/v1/sessions/{session['id']}").json()["messages"][-1]
        assert reply["role"] == "assistant" and reply["content"] == run["error"]
        listed = client.get("/v1/runs", params={"status": "declined"}).json()["runs"]
        assert [r["id"] for r in listed] == [run_id]
