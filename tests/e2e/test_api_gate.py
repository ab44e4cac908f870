"""The request gate (issue 19): the key, the body's type and its size are checked before one body byte
is read. Raw sockets send headers only: an answer that arrives while the promised body is still unsent
proves the server did not wait to read (and buffer or spool) it."""
from __future__ import annotations

import json
import re
import socket
import time

import pytest

from api.app import create_app
from api.errors import UsageError
from tests.fixtures.server import serving

HUGE = 150_000_000


@pytest.fixture
def gate_api(runtime):
    with serving(runtime, execute=False) as api:
        yield api


def _headers_only(api, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict]:
    """Send the request line and headers, none of the body they announce; read the answer (5 s at most)."""
    host, port = api.base_url.removeprefix("http://").split(":")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall("\r\n".join(lines).encode())
        return _answer(sock)


def _answer(sock: socket.socket) -> tuple[int, dict]:
    """The status and JSON body of one HTTP answer, read until its Content-Length has come (the head and
    the body may arrive in separate reads on a busy machine)."""
    raw = b""
    while b"\r\n\r\n" not in raw or len(raw.partition(b"\r\n\r\n")[2]) < _length(raw):
        chunk = sock.recv(65536)
        if not chunk:
            break
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _length(raw: bytes) -> int:
    for line in raw.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_a_keyless_huge_multipart_body_is_refused_before_it_is_read(gate_api):
    status, body = _headers_only(gate_api, "POST", "/v1/sessions", {
        "Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(HUGE)})
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, _ = _headers_only(gate_api, "POST", "/v1/narrations/upload", {
        "Content-Type": "multipart/form-data; boundary=x", "Content-Length": "1000"})
    assert status == 401


def test_a_json_route_keeps_its_json_limit_whatever_the_content_type(gate_api):
    auth = {"Authorization": f"Bearer {gate_api.key()}"}
    limit = gate_api.rt.settings.server.max_body_bytes
    status, body = _headers_only(gate_api, "POST", "/v1/sessions", {
        **auth, "Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(3 * limit)})
    assert status == 413 and body["error"]["code"] == "too_large"
    status, body = _headers_only(gate_api, "POST", "/v1/briefs", {
        **auth, "Content-Type": "multipart/form-data; boundary=x", "Content-Length": "100"})
    assert status == 415 and body["error"]["code"] == "unsupported_media_type"
    status, _ = _headers_only(gate_api, "POST", "/v1/narrations/upload", {
        **auth, "Content-Type": "application/json", "Content-Length": "100"})
    assert status == 415


def test_an_upload_over_its_limit_is_413_before_it_is_read(gate_api):
    auth = {"Authorization": f"Bearer {gate_api.key()}"}
    status, body = _headers_only(gate_api, "POST", "/v1/narrations/upload", {
        **auth, "Content-Type": "multipart/form-data; boundary=x",
        "Content-Length": str(gate_api.rt.settings.server.max_upload_bytes + 1)})
    assert status == 413 and body["error"]["code"] == "too_large"


def test_multipart_parts_are_bounded_while_they_stream(gate_api):
    from api.routes.narrations import MAX_UPLOADS

    uploads = gate_api.rt.settings.data_dir.resolve() / "uploads"
    with gate_api.client(gate_api.key()) as client:
        many = [("files", (f"f{n}.png", b"x", "image/png")) for n in range(MAX_UPLOADS + 1)]
        response = client.post("/v1/narrations/upload", files=many)
        assert response.status_code == 400 and "Too many files" in response.json()["error"]["message"]
        field = client.post("/v1/narrations/upload", data={"note": "y" * 100_000},
                            files=[("files", ("a.png", b"x", "image/png"))])
        assert field.status_code == 400 and field.json()["error"]["code"] == "invalid_request"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_requests_without_a_body_and_json_bodies_still_pass(gate_api):
    with gate_api.client(gate_api.key()) as client:
        assert client.post("/v1/sessions", json={}).status_code == 201
        assert client.post("/v1/sessions", content=b"{}",
                           headers={"content-type": "application/merge-patch+json"}).status_code == 201
        assert client.get("/v1/runs").status_code == 200
    with gate_api.client() as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/v1/runs").status_code == 401


@pytest.fixture
def tight_api(runtime):
    server = runtime.settings.server
    server.max_streams_per_key, server.max_streams, server.body_idle_s = 2, 3, 1.0
    with serving(runtime, execute=False) as api:
        yield api


def test_event_streams_are_capped_per_key_and_in_all(tight_api):
    from contextlib import ExitStack

    brief = {"goal": "a quiet harbour", "deliverables": [{"kind": "image", "width": 64, "height": 64, "steps": 2}]}
    alice_key = tight_api.key("alice")
    alice, bob = tight_api.client(alice_key), tight_api.client(tight_api.key("bob"))
    with alice, bob, ExitStack() as streams:
        a_run = alice.post("/v1/briefs", json=brief).json()["id"]
        b_run = bob.post("/v1/briefs", json=brief).json()["id"]

        def open_stream(client, run_id):
            return streams.enter_context(client.stream("GET", f"/v1/runs/{run_id}/events")).status_code

        assert [open_stream(alice, a_run), open_stream(alice, a_run)] == [200, 200]
        third = alice.get(f"/v1/runs/{a_run}/events")
        assert third.status_code == 429 and "limit is 2" in third.json()["error"]["message"]
        assert open_stream(bob, b_run) == 200
        full = bob.get(f"/v1/runs/{b_run}/events")
        assert full.status_code == 429 and "limit of 3 event streams" in full.json()["error"]["message"]
        turn = bob.post(f"/v1/sessions/{bob.post('/v1/sessions', json={}).json()['id']}/messages",
                        json={"content": "a story"}, headers={"Accept": "text/event-stream"})
        assert turn.status_code == 429  # refused before its run is made
        assert bob.get("/v1/runs").json()["runs"][0]["id"] == b_run
    with tight_api.client(alice_key) as again:  # the slots come back once the server sees the clients go
        deadline, status = time.monotonic() + 10, 429
        while status == 429 and time.monotonic() < deadline:
            with again.stream("GET", f"/v1/runs/{a_run}/events") as answer:
                status = answer.status_code
            time.sleep(0.1)
        assert status == 200


def test_a_body_that_stops_coming_is_408(tight_api):
    auth = f"Bearer {tight_api.key()}"
    host, port = tight_api.base_url.removeprefix("http://").split(":")
    head = (f"POST /v1/sessions HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"title\": ")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
        status, answer = _answer(sock)
    assert status == 408 and answer["error"]["code"] == "timeout", answer
    assert time.monotonic() - started < 5


def test_library_roots_that_overlap_the_data_folder_are_refused(runtime, gate_api):
    data = runtime.settings.data_dir
    for root in (data.parent, data / "assets"):
        runtime.settings.narration.library_roots = [root]
        with pytest.raises(UsageError, match="overlaps the data folder"):
            create_app(runtime)
    gate_api.rt.settings.narration.library_roots = [data.parent]  # changed while serving: paths still refused
    stored = next(p for p in data.rglob("*") if p.is_file())
    with gate_api.client(gate_api.key()) as client:
        answer = client.post("/v1/narrations", json={"paths": [str(stored)]})
    assert answer.status_code == 422 and "no such file or folder inside the library roots" in answer.text


def test_a_cancelled_upload_job_leaves_no_folder_behind(gate_api):
    uploads = gate_api.rt.settings.data_dir.resolve() / "uploads"
    with gate_api.client(gate_api.key()) as client:
        job = client.post("/v1/narrations/upload", files=[("files", ("a.png", b"\x89PNG....", "image/png"))])
        assert job.status_code == 202 and len(list(uploads.iterdir())) == 1  # queued: its files wait
        assert client.post(f"/v1/runs/{job.json()['id']}/cancel").json()["status"] == "cancelled"
        retry = client.post(f"/v1/runs/{job.json()['id']}/retry")
    assert not list(uploads.iterdir())
    assert retry.status_code == 409 and "upload them again" in retry.json()["error"]["message"]


def test_the_docs_page_loads_only_from_this_server(gate_api):
    with gate_api.client() as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert "http://" not in page.text and "https://" not in page.text
        links = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
        assert links and not [link for link in links if "//" in link], links
        for link in links:
            assert client.get(link).status_code == 200, link
        assert client.get("/redoc").status_code == 404
