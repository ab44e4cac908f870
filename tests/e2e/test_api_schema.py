"""Schemathesis over the OpenAPI document against the real server: generated requests to every
operation never cause a 5xx, and every response matches the documented status codes and schemas.
Workers are not started, so generated briefs stay queued instead of running models."""
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


def test_every_operation_honours_its_openapi_contract(runtime):
    runtime.settings.server.max_in_flight_per_key = 5  # 429s are part of the contract too
    with serving(runtime, execute=False) as api:
        headers = {"Authorization": f"Bearer {api.key()}"}
        schema = schemathesis.openapi.from_url(f"{api.base_url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 12
        for operation in operations:
            _fuzz(operation, api.base_url, headers)


def _fuzz(operation, base_url: str, headers: dict) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case):
        if "text/event-stream" in str(operation.definition.raw.get("responses", {})):
            case.headers = {**(case.headers or {}), "Accept": "application/json"}
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS)

    check()
