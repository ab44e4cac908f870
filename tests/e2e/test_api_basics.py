"""The API's front door against a real uvicorn server: keys, errors, limits, health, metrics, OpenAPI."""
from __future__ import annotations

import json


def test_requests_without_a_valid_key_get_401_in_the_error_shape(api):
    with api.client() as anonymous:
        response = anonymous.get("/v1/runs")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"
    with api.client("sl_not-a-real-key") as wrong:
        assert wrong.get("/v1/sessions").status_code == 401


def test_a_revoked_key_stops_working(api):
    from api.auth import create_key, revoke_key

    key_id, key = create_key(api.rt.db, "short-lived")
    with api.client(key) as client:
        assert client.get("/v1/runs").status_code == 200
        assert revoke_key(api.rt.db, key_id)
        assert client.get("/v1/runs").status_code == 401


def test_unknown_objects_and_routes_are_404_in_the_error_shape(api):
    with api.client(api.key()) as client:
        for path in ("/v1/runs/" + "0" * 32, "/v1/assets/" + "f" * 32, "/v1/sessions/nope", "/v1/nothing"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert set(response.json()["error"]) == {"code", "message"}


def test_a_body_over_the_limit_is_413_and_a_bad_body_is_one_line_422(api):
    limit = api.rt.settings.server.max_body_bytes
    with api.client(api.key()) as client:
        big = client.post("/v1/briefs", content=b"{" + b" " * (limit + 10) + b"}",
                          headers={"content-type": "application/json"})
        assert big.status_code == 413
        assert big.json()["error"]["code"] == "too_large"
        bad = client.post("/v1/briefs", json={"goal": "x", "deliverables": "not a list"})
        assert bad.status_code == 422
        message = bad.json()["error"]["message"]
        assert "\n" not in message and message


def test_healthz_metrics_and_openapi(api):
    with api.client() as client:
        health = client.get("/healthz").json()
        assert health["status"] == "ok" and health["database"] == api.rt.db.engine.dialect.name
        metrics = client.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        text = metrics.text
        for name in ("storyloom_runs{status=\"queued\"}", "storyloom_queue_depth", "storyloom_step_duration_seconds",
                     "storyloom_runs_executing"):
            assert name in text, name
        spec = client.get("/openapi.json").json()
        paths = set(spec["paths"])
        assert {"/v1/sessions", "/v1/sessions/{session_id}/messages", "/v1/briefs", "/v1/runs/{run_id}/events",
                "/v1/runs/{run_id}/cancel", "/v1/assets/{asset_id}/content", "/healthz", "/metrics"} <= paths
        assert client.get("/docs").status_code == 200
        json.dumps(spec)  # the document is plain JSON
