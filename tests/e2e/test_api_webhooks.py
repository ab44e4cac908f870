"""Signed webhooks through the API: a chat turn with `webhook_url` ends and its summary is POSTed to a real
receiver on 127.0.0.1 (allowed by setting), signed per Standard Webhooks; a 500 is retried with the same
webhook-id; each run has its own id; unsafe targets are refused with one line naming webhook_url; a
delivery still pending when the server stops is sent by the next server."""
from __future__ import annotations

import json
import time

from agent.settings import WebhookSettings
from agent.webhooks import signing
from memory import repo
from tests.fixtures.server import serving
from tests.fixtures.webhook_receiver import SECRET, Receiver

NOISE = "I want to add a reverb effect to my podcast audio."  # declined at once: no tool does audio effects


def _hooked(rt, allow: str = "127.0.0.1"):
    rt.settings.critic.max_rounds = 0
    rt.settings.webhooks = WebhookSettings(secret=SECRET, allow=allow, backoff_s=0.1, backoff_max_s=0.5, poll_s=0.1,
                                           timeout_s=5)
    return rt


def _turn(client, url: str | None, content: str = NOISE):
    session = client.post("/v1/sessions", json={}).json()
    body = {"content": content} | ({"webhook_url": url} if url else {})
    return client.post(f"/v1/sessions/{session['id']}/messages", json=body)


def _settled(client, run_id: str, timeout: float = 30) -> dict:
    """The run once its webhook is delivered or given up (its status is written after the receiver answers)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/v1/runs/{run_id}").json()
        if run["webhook"]["status"] in ("delivered", "failed"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"webhook of run {run_id} still {run['webhook']} after {timeout} s")


def test_each_run_end_is_posted_signed_and_a_500_is_retried_with_the_same_id(db_runtime):
    receiver = Receiver(lambda delivery, earlier: 500 if earlier == 0 else 200)  # every first attempt fails
    try:
        with serving(_hooked(db_runtime)) as api, api.client(api.key()) as client:
            made = [_turn(client, receiver.url + "/hooks/storyloom?token=t1") for _ in range(2)]
            assert [m.status_code for m in made] == [202, 202], made[0].text
            assert made[0].json()["webhook"] == {"id": None, "url": receiver.url + "/hooks/storyloom?token=t1",
                                                 "status": "waiting", "attempts": 0, "last_status": None,
                                                 "last_error": None, "next_attempt_at": None, "delivered_at": None}
            runs = {m.json()["id"]: _settled(client, m.json()["id"]) for m in made}
        seen = receiver.wait_for(4)
    finally:
        receiver.close()
    key = signing.signing_key(SECRET)
    for run_id, run in runs.items():
        mine = [d for d in seen if json.loads(d.body)["id"] == run_id]
        assert len(mine) == 2 and {d.headers["webhook-id"] for d in mine} == {run["webhook"]["id"]}
        assert run["webhook"]["status"] == "delivered" and run["webhook"]["attempts"] == 2
        assert run["webhook"]["last_status"] == 200 and run["webhook"]["last_error"] is None
        for delivery in mine:
            assert delivery.path == "/hooks/storyloom?token=t1"
            assert signing.verify(key, delivery.headers, delivery.body)
            assert abs(int(delivery.headers["webhook-timestamp"]) - time.time()) < 120
            assert delivery.headers["content-type"] == "application/json"
        body = json.loads(mine[-1].body)
        assert body == {k: v for k, v in run.items() if k != "webhook"}  # the run as GET shows it
        assert body["status"] == "declined"
    assert len({run["webhook"]["id"] for run in runs.values()}) == 2  # one id per run


REFUSED = [  # (webhook_url, STORYLOOM_WEBHOOKS__ALLOW, what the one-line answer says)
    ("http://127.0.0.1:9/hook", "", "non-public"),
    ("http://localhost:9/hook", "10.0.0.0/8", "non-public"),
    ("http://169.254.169.254/latest/meta-data/", "127.0.0.1", "non-public"),
    ("ftp://127.0.0.1/hook", "127.0.0.1", "only http and https"),
    ("file:///etc/passwd", "127.0.0.1", "only http and https"),
    ("http://127.0.0.1/" + "x" * 2100, "127.0.0.1", "at most 2048 characters"),
]


def test_unsafe_targets_are_refused_before_anything_is_made(runtime):
    with serving(_hooked(runtime), execute=False) as api, api.client(api.key()) as client:
        for url, allow, reason in REFUSED:
            runtime.settings.webhooks.allow = allow
            refused = _turn(client, url)
            brief = client.post("/v1/briefs", json={"goal": "a launch", "webhook_url": url,
                                                    "deliverables": [{"kind": "narration", "text": "Hello."}]})
            for answer in (refused, brief):
                assert answer.status_code == 422, (url, answer.text)
                error = answer.json()["error"]
                assert error["code"] == "invalid_request" and error["message"].startswith("webhook_url: ")
                assert reason in error["message"] and "\n" not in error["message"], (url, error)
        upload = client.post("/v1/narrations/upload", data={"webhook_url": "gopher://127.0.0.1/x"},
                             files={"files": ("a.txt", b"hello", "text/plain")})
        assert upload.status_code == 422 and upload.json()["error"]["message"].startswith("webhook_url: only http")
        assert client.get("/v1/runs").json()["runs"] == []


def test_a_server_without_a_secret_refuses_webhooks(runtime):
    runtime.settings.webhooks = WebhookSettings(allow="127.0.0.1")
    with serving(runtime, execute=False) as api, api.client(api.key()) as client:
        refused = _turn(client, "http://127.0.0.1:9/hook")
    assert refused.status_code == 422 and "STORYLOOM_WEBHOOKS__SECRET" in refused.json()["error"]["message"]


def test_a_delivery_pending_when_the_server_stops_is_sent_by_the_next_one(runtime):
    failing = True
    receiver = Receiver(lambda delivery, earlier: 503 if failing else 200)
    try:
        with serving(_hooked(runtime)) as api, api.client(key := api.key()) as client:
            run_id = _turn(client, receiver.url).json()["id"]
            receiver.wait_for(1)
        with runtime.db.session() as s:  # the first server is gone: the delivery waits in the outbox
            row = repo.get_delivery(s, run_id)
            assert row.status == "pending" and row.attempts >= 1 and row.last_status == 503
        attempts_before, failing = row.attempts, False
        with serving(_hooked(runtime)) as api, api.client(key) as client:
            run = _settled(client, run_id)
        seen = receiver.wait_for(attempts_before + 1)
    finally:
        receiver.close()
    assert run["webhook"]["status"] == "delivered" and run["webhook"]["attempts"] == attempts_before + 1
    assert {d.headers["webhook-id"] for d in seen} == {run["webhook"]["id"]}
