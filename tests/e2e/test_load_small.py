"""The load suite, small: 20 clients for 10 s against a real server process (`python -m evals.load`),
on SQLite (PostgreSQL in `make test-slow`). It asserts what must hold on any machine: every request answered, no 5xx,
no lock error in the responses or the server log, and every part of the mix exercised. Latency goals
(read p95 < 50 ms at 200 clients, first event < 200 ms) depend on the machine and are measured by the
full command, not asserted here."""
from __future__ import annotations

import json

from evals.load import parse_args, run_load
from evals.load_clients import READS


def test_twenty_clients_for_ten_seconds_get_no_errors(heavy_db_env, tmp_path):
    args = parse_args(["--clients", "20", "--seconds", "10", "--out", str(tmp_path / "load"),
                       "--database-url", heavy_db_env["STORYLOOM_DATABASE_URL"]])
    report = run_load(args)

    assert report["errors_5xx"] == 0, report["errors"]
    assert report["locked"] == 0, report["server_log_errors"]
    assert set(report["errors"]) <= {"429"}, report["errors"]  # no timeouts or dropped connections; 429 is the limit
    assert report["server_log_errors"]["exceptions"] == {}
    exercised = set(report["endpoints"])
    assert {name for name, _ in READS} <= exercised
    assert {"POST /v1/narrations", "SSE submit to terminal", "SSE replay to the end"} <= exercised
    assert report["first_events"] > 0 and report["read_p95_ms"] is not None
    saved = json.loads((tmp_path / "load" / "report.json").read_text())
    assert saved["clients"] == 20 and saved["machine"]["cores"]
    assert "Where and when" in (tmp_path / "load" / "report.html").read_text()
