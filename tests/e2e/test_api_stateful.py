"""Schemathesis goes stateful: sequences of calls chained through OpenAPI links (create a session or a
brief, read the run it returned, cancel it, read it again ...). The links are the ones schemathesis 4
infers from the document (response fields such as `id` and `session_id` feed path parameters such as
`{run_id}`); the test asserts that the create -> read -> cancel chains were actually followed, so a
document change that breaks the inference fails here instead of silently testing nothing.

Workers are not started (generated briefs stay queued), so the event stream operation is left out:
a queued run's stream never ends. Its contract is fuzzed by test_api_schema.py on a cancelled run.
"""
from __future__ import annotations

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fixtures.server import serving

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CREATES = {"POST /v1/briefs", "POST /v1/sessions/{session_id}/messages"}
READ, CANCEL = "GET /v1/runs/{run_id}", "POST /v1/runs/{run_id}/cancel"


def test_create_read_cancel_sequences_keep_the_contract(db_runtime):
    # Runs stay queued here (no workers), so a small in-flight limit would turn every later create into a 429
    # and no chain would start; 429s are fuzzed in test_api_schema.py.
    db_runtime.settings.server.max_in_flight_per_key = 10_000
    with serving(db_runtime, execute=False) as api:
        # The cast bank (/v1/entities) is left out: its sequences do not reach a run, and with it in the
        # document the derandomized draw no longer reached the cancel chain; test_api_entities.py covers it.
        schema = schemathesis.openapi.from_url(f"{api.base_url}/openapi.json").exclude(
            path_regex=r"/events$|^/v1/entities")
        # Valid inputs only: sequences need objects that exist; invalid input is fuzzed in test_api_schema.py.
        schema.config.generation.update(modes=[GenerationMode.POSITIVE])
        followed = _run_machine(schema, api)
    chains = set(followed)
    assert {(s, t) for s, t in chains if s in CREATES and t == READ}, sorted(chains)  # create -> read
    assert {(s, t) for s, t in chains if t == CANCEL}, sorted(chains)  # (create or read) -> cancel


def _run_machine(schema, api) -> Counter:
    """Run the state machine; returns (source operation, target operation) -> times a link was followed.
    Each scenario gets a key of its own, so what it reads depends only on what it made: with one key for
    all, lists grew between Hypothesis' replays of a scenario and it reported flaky data generation."""
    labels: dict[str, str] = {}  # case id -> its operation
    followed: Counter = Counter()
    statuses: Counter = Counter()

    class Workflow(schema.as_state_machine()):
        def setup(self) -> None:
            self.key = api.key()

        def step(self, input):
            if input.transition is not None and input.is_applied:
                followed[(labels.get(input.transition.parent_id, "?"), input.case.operation.label)] += 1
            labels[input.case.id] = input.case.operation.label
            return super().step(input)

        def before_call(self, case) -> None:
            # A chat turn streams its events when asked for text/event-stream: the run would never end here.
            case.headers = {**(case.headers or {}), "Accept": "application/json"}

        def get_call_kwargs(self, case) -> dict:
            return {"base_url": api.base_url, "headers": {"Authorization": f"Bearer {self.key}"}, "timeout": 30}

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            statuses[(case.operation.label, response.status_code)] += 1
            case.validate_response(response, checks=CHECKS)

    # derandomize: the same sequences on every run, so whether the cancel chain is reached does not
    # depend on luck (with every route in the document, a random draw sometimes missed it). Any change to
    # the document shifts the draw: with the chat turn's `save_cast` 8 steps no longer reached it, 10 do.
    Workflow.run(settings=settings(max_examples=120, stateful_step_count=10, deadline=None, database=None,
                                   derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
    assert statuses[("POST /v1/briefs", 202)], f"no generated brief was accepted: {sorted(statuses.items())}"
    return followed


def test_a_body_that_is_not_json_is_a_documented_422(api):
    """Found by the state machine: FastAPI answered 400 (undocumented) for a body it could not parse."""
    with api.client(api.key()) as client:
        for path in ("/v1/sessions", "/v1/briefs"):
            for body in (b"\xc3\x28 not UTF-8", b"\xff\xfecYu5", b"{"):  # the first was the undocumented 400
                response = client.post(path, content=body, headers={"Content-Type": "application/json"})
                assert response.status_code == 422, (path, body, response.text)
                error = response.json()["error"]
                assert error["code"] == "invalid_request" and "\n" not in error["message"], error


def test_text_with_a_nul_character_is_a_422_on_every_database(api):
    """Found by the state machine: PostgreSQL cannot store NUL in text, so a chat turn with one was a 500
    there (after its run had been created); now every text field refuses it first, on both databases."""
    with api.client(api.key()) as client:
        session = client.post("/v1/sessions", json={}).json()["id"]
        for path, body in ((f"/v1/sessions/{session}/messages", {"content": "a story\u0000"}),
                           ("/v1/sessions", {"title": "x\u0000"}),
                           ("/v1/briefs", {"goal": "a kite", "deliverables": [{"kind": "narration",
                                                                               "text": "hi\u0000"}]})):
            response = client.post(path, json=body)
            assert response.status_code == 422, (path, response.text)
            assert "NUL" in response.json()["error"]["message"]
        assert client.get("/v1/runs").json()["runs"] == []  # nothing was created
        assert client.get("/v1/runs", params={"status": "queued\u0000"}).status_code == 422  # a 500 on PostgreSQL
