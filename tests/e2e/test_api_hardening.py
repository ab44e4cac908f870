"""The API under pressure: parallel requests against the per-key limit and Idempotency-Key, bodies
without a Content-Length, absurd event ids and byte ranges, and probes of files outside the library."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fixtures.server import serving

BRIEF = {"goal": "a quiet harbour", "deliverables": [{"kind": "image", "width": 64, "height": 64, "steps": 2}]}


@pytest.fixture
def queued_api(db_runtime):
    """Workers not started: runs stay queued, so counts are exact."""
    with serving(db_runtime, execute=False) as api:
        yield api


def _parallel(n: int, call):
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: call(), range(n)))


def test_parallel_requests_cannot_pass_the_in_flight_limit_together(queued_api):
    queued_api.rt.settings.server.max_in_flight_per_key = 2
    key = queued_api.key()

    def post():
        with queued_api.client(key) as client:
            return client.post("/v1/briefs", json=BRIEF).status_code

    codes = _parallel(8, post)
    assert sorted(codes) == [202, 202] + [429] * 6


def test_parallel_retries_with_one_idempotency_key_all_get_the_same_run(queued_api):
    key = queued_api.key()

    def post():
        with queued_api.client(key, **{"Idempotency-Key": "order-7"}) as client:
            response = client.post("/v1/briefs", json=BRIEF)
            return response.status_code, response.json()["id"]

    answers = _parallel(6, post)
    assert len({run_id for _, run_id in answers}) == 1
    assert sorted(code for code, _ in answers) == [200] * 5 + [202]


def test_a_chunked_body_over_the_limit_is_413(queued_api):
    limit = queued_api.rt.settings.server.max_body_bytes

    def chunks():  # an iterator: httpx sends it chunked, with no Content-Length to refuse it by
        yield b'{"goal": "'
        for _ in range(limit // 1000 + 2):
            yield b"x" * 1000
        yield b'", "deliverables": []}'

    with queued_api.client(queued_api.key()) as client:
        response = client.post("/v1/briefs", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def test_absurd_event_ids_and_ranges_get_clear_answers(api):
    with api.client(api.key()) as client:
        run = api.wait(client, client.post("/v1/briefs", json=BRIEF).json()["id"])
        huge = client.get(f"/v1/runs/{run['id']}/events", params={"after": 10**20})
        assert huge.status_code == 422
        with client.stream("GET", f"/v1/runs/{run['id']}/events", headers={"Last-Event-ID": str(10**20)}) as s:
            assert s.status_code == 200 and "event: succeeded" in s.read().decode()  # made up once finished
        image = next(a["id"] for a in run["assets"] if a["kind"] == "image")
        huge, many = "9" * 5000, ",".join(["0-1"] * 50)
        for header, status in (("bytes=99999999-", 416), ("bytes=5-1", 416), ("lines=1-2", 400), ("bytes=x", 400),
                               (f"bytes={huge}-", 400), (f"bytes=0-{huge}", 400), (f"bytes={many}", 400)):
            response = client.get(f"/v1/assets/{image}/content", headers={"Range": header})
            assert response.status_code == status, header
            assert set(response.json()["error"]) == {"code", "message"}


def test_narration_paths_do_not_reveal_which_files_exist_outside_the_roots(queued_api, tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    (tmp_path / "exists.png").write_bytes(b"secret")
    queued_api.rt.settings.narration.library_roots = [library]
    with queued_api.client(queued_api.key()) as client:
        answers = [client.post("/v1/narrations", json={"paths": [path]}).json()["error"]["message"].split(": ", 1)[1]
                   for path in (str(tmp_path / "exists.png"), str(tmp_path / "missing.png"), "../exists.png",
                                "a" * 4000)]
    assert len(set(answers)) == 1 and answers[0] == "no such file or folder inside the library roots"
