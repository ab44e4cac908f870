"""The chaos suite, small: 5 runs (a story, its chat edit, a brief, a narration job on uploads, another
brief), each with its server process SIGKILLed once at a random moment and restarted (`python -m
evals.chaos`), on SQLite (PostgreSQL in `make test-slow`). One chaos run per database feeds both tests.

Every run completing is asserted, and nothing lost, duplicated or missed. Where each kill lands is
random; each crash window the suite found is reproduced exactly, whatever the kill does, in
tests/integration/test_crash_windows.py.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from evals.chaos import parse_args, run_chaos
from evals.pgcluster import migrated_database
from tests.fixtures.postgres import HEAVY_BACKENDS

KINDS = "story,chat,brief,narration,brief"


@pytest.fixture(scope="module", params=HEAVY_BACKENDS)
def chaos(request, tmp_path_factory, models_dir) -> dict:
    out = tmp_path_factory.mktemp("chaos")
    argv = ["--runs", "1", "--kinds", KINDS, "--seed", "5", "--out", str(out)]
    if request.param == "postgres":
        argv += ["--database-url", migrated_database(request.getfixturevalue("pg_server"))]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORYLOOM_MODELS_DIR", str(models_dir))
        return run_chaos(parse_args(argv))


def test_every_killed_run_completes(chaos):
    assert chaos["runs"] == 5
    assert chaos["completed"] == 5, chaos["final_statuses"]
    assert chaos["chat_reply_problems"] == 0
    assert "Every killed run" in (Path(chaos["out"]) / "report.html").read_text()


def test_nothing_is_lost_duplicated_or_missed(chaos):
    problems = {r["run_id"][:8]: r["lost"] + r["duplicated"] + r["events_missing"] + r["events_repeated"]
                for r in chaos["details"]}
    assert (chaos["assets_lost"], chaos["assets_duplicated"], chaos["events_missing"], chaos["events_repeated"]) \
        == (0, 0, 0, 0), problems
