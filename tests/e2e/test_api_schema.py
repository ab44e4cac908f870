"""Schemathesis over the OpenAPI document against the real server: generated requests to every
operation never cause a 5xx, and every response matches the documented status codes and schemas.
Each operation with ids in its path is fuzzed twice: with generated ids (which reach only the 404
of the ownership check) and with the ids of real objects of the caller, so the generated query,
headers and bodies reach the code behind it. Workers are not started, so generated briefs stay
queued instead of running models."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fixtures.server import serving

EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_every_operation_honours_its_openapi_contract(db_runtime):
    db_runtime.settings.server.max_in_flight_per_key = 5  # 429s are part of the contract too
    with serving(db_runtime, execute=False) as api:
        key = api.key()
        headers = {"Authorization": f"Bearer {key}"}
        real = _real_objects(api, key)
        schema = schemathesis.openapi.from_url(f"{api.base_url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 12
        for operation in operations:
            _fuzz(operation, api.base_url, headers, {})
            if any(name in operation.path for name in real):
                _fuzz(operation, api.base_url, headers, real)


def _real_objects(api, key: str) -> dict[str, str]:
    """A session, a finished (cancelled) run and an asset of it, all the caller's."""
    from memory import repo

    with api.client(key) as client:
        session = client.post("/v1/sessions", json={}).json()["id"]
        run = client.post("/v1/briefs", json={"goal": "a kite", "deliverables": [{"kind": "image"}]}).json()["id"]
        assert client.post(f"/v1/runs/{run}/cancel").json()["status"] == "cancelled"  # its event stream ends
    sha, path = api.rt.store.put(b"\x89PNG not really")
    with api.rt.db.session() as s:
        asset = repo.create_asset(s, run_id=run, kind="image", mime="image/png", sha256=sha,
                                  size=path.stat().st_size, role="image-1.image").id
    return {"session_id": session, "run_id": run, "asset_id": asset, "narration_id": run}


def _fuzz(operation, base_url: str, headers: dict, real: dict[str, str]) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case):
        if "text/event-stream" in str(operation.definition.raw.get("responses", {})):
            case.headers = {**(case.headers or {}), "Accept": "application/json"}
        if real and case.path_parameters:
            case.path_parameters = {k: real.get(k, v) for k, v in case.path_parameters.items()}
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS)

    check()
