"""Story runs on a real PostgreSQL server: memory and LangGraph checkpoints in the same database, and a run
interrupted after its first wave resumes without redoing finished steps (on both backends)."""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from agent.checkpoint import checkpointer, libpq_url
from agent.graph import build_graph
from agent.llm import ServerLLM
from agent.requests import StoryRequest
from agent.runtime import Runtime
from agent.service.runs import create_story_run, execute_run
from agent.settings import LLMSettings, Settings
from memory import AssetStore, open_database, repo
from memory.db import include_name
from memory.tables import Base

PROMPT = "a lighthouse keeper and a seal"
STORY_STEPS = ["image-1", "speech-1", "video"]


def _small_story_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    # One scene, small frames, scoring without revision rounds: the plumbing is under test, not quality.
    for key, value in {"STORYLOOM_DATABASE_URL": url, "STORYLOOM_CRITIC__MAX_ROUNDS": "0",
                       "STORYLOOM_STORY__IMAGE_SIZE": "64", "STORYLOOM_STORY__VIDEO_SIZE": "64",
                       "STORYLOOM_STORY__VIDEO_FPS": "4"}.items():
        monkeypatch.setenv(key, value)


def _open_runtime(models) -> Runtime:
    settings = Settings()
    rt = Runtime(settings=settings, profile="offline", db=open_database(settings.db_url, auto_upgrade=False),
                 store=AssetStore(settings.assets_path), models=models)
    # An OpenAI client aimed at a closed loopback port: the storyboard falls back to the deterministic one
    # at once, which keeps the embedded LLM (slow on CPU) out of these tests.
    rt._llm = ServerLLM(LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout=2))
    return rt


@pytest.fixture
def pg_runtime(env, models, pg_migrated_url, monkeypatch) -> Iterator[Runtime]:
    _small_story_env(monkeypatch, pg_migrated_url)
    rt = _open_runtime(models)
    yield rt
    rt.db.close()


@pytest.fixture(params=["sqlite", "postgres"])
def any_runtime(request, env, models, tmp_path, monkeypatch) -> Iterator[Runtime]:
    url = f"sqlite:///{tmp_path / 'data' / 'storyloom.db'}" if request.param == "sqlite" else \
        request.getfixturevalue("pg_migrated_url")
    _small_story_env(monkeypatch, url)
    if request.param == "sqlite":
        open_database(url).close()  # SQLite is migrated on first open
    rt = _open_runtime(models)
    yield rt
    rt.db.close()


def _checkpoint_count(rt: Runtime, thread_id: str) -> int:
    with psycopg.connect(libpq_url(rt.settings.db_url)) as conn:
        return conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = %s", (thread_id,)).fetchone()[0]


def _step_rows(rt: Runtime, run_id: str) -> dict[str, tuple[str, str, object]]:
    """step key -> (row id, status, finished_at): a redone step would get a new finish time."""
    with rt.db.session() as s:
        return {st.key: (st.id, st.status, st.finished_at) for st in repo.list_steps(s, run_id)}


def _assets_by_step(rt: Runtime, run_id: str) -> dict[str, list[tuple[str, str]]]:
    """step key -> its assets as (output name, asset id)."""
    with rt.db.session() as s:
        keys = {st.id: st.key for st in repo.list_steps(s, run_id)}
        found: dict[str, list[tuple[str, str]]] = {}
        for asset in repo.list_assets(s, run_id=run_id):
            found.setdefault(keys.get(asset.step_id, "-"), []).append((asset.name, asset.id))
        return found


def test_story_run_on_postgresql_keeps_memory_and_checkpoints_there(pg_runtime):
    assert pg_runtime.db.engine.dialect.name == "postgresql" and pg_runtime.checkpoint_path is None
    run_id = create_story_run(pg_runtime, StoryRequest(prompt=PROMPT, scenes=1, seed=2))
    summary = execute_run(pg_runtime, run_id)
    assert summary["status"] == "succeeded", summary["error"]
    assert [s["key"] for s in summary["steps"]] == STORY_STEPS
    assert all(s["status"] == "succeeded" for s in summary["steps"])
    assert {a["kind"] for a in summary["assets"]} >= {"image", "audio", "video"}
    with pg_runtime.db.session() as s:
        assets = repo.list_assets(s, run_id=run_id)
        assert all(pg_runtime.store.verify(a.sha256) for a in assets)
        assert {sc.metric for sc in repo.list_scores(s, run_id=run_id)} >= {"clip_score", "narration_wer"}
        assert repo.get_run(s, run_id).finished_at.tzinfo is not None
    # plan, each execute wave, critique, deliver: every super-step is checkpointed in PostgreSQL.
    assert _checkpoint_count(pg_runtime, run_id) >= 4
    with pg_runtime.db.engine.connect() as conn:  # the checkpointer's tables are no schema drift
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        assert compare_metadata(context, Base.metadata) == []


def test_concurrent_runs_each_get_their_own_checkpointer_connection(pg_runtime):
    """Worker threads enter checkpointer() at once on a database without checkpoint tables yet."""
    from langgraph.checkpoint.base import empty_checkpoint

    def save_and_read(thread_id: str) -> str:
        with checkpointer(pg_runtime) as saver:
            config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
            saved = saver.put(config, {**empty_checkpoint(), "id": f"1ef-{thread_id}"}, {"step": 1}, {})
            return saver.get_tuple(saved).checkpoint["id"]

    threads = [f"t{i}" for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(save_and_read, threads)) == [f"1ef-{t}" for t in threads]
    assert [_checkpoint_count(pg_runtime, t) for t in threads] == [1] * 6


def test_an_interrupted_run_resumes_without_redoing_finished_steps(any_runtime):
    rt = any_runtime
    run_id = create_story_run(rt, StoryRequest(prompt=PROMPT, scenes=1, seed=3))
    config = {"configurable": {"thread_id": run_id, "runtime": rt}}
    with checkpointer(rt) as saver:
        graph = build_graph(checkpointer=saver)
        graph.invoke({"run_id": run_id}, config, interrupt_after=["execute"])  # stops after the first wave
        assert graph.get_state(config).next == ("execute",)
    first = _step_rows(rt, run_id)
    done = {key for key, (_, status, _) in first.items() if status == "succeeded"}
    assert done == {"image-1", "speech-1"} and "video" not in first
    made = _assets_by_step(rt, run_id)

    events: list[dict] = []
    summary = execute_run(rt, run_id, emit=events.append)
    assert summary["status"] == "succeeded", summary["error"]
    after = _step_rows(rt, run_id)
    assert {key: after[key] for key in done} == {key: first[key] for key in done}  # same rows, not re-run
    assert after["video"][1] == "succeeded"
    assets = _assets_by_step(rt, run_id)
    assert {key: assets[key] for key in done} == {key: made[key] for key in done}  # nothing duplicated
    names = [name for name, _ in assets["video"]]
    assert "video" in names and len(names) == len(set(names))  # each output of the last step made once
    assert not [e for e in events if e.get("type") == "step" and e.get("step") in done and e.get("status") == "running"]
    assert not [e for e in events if e.get("stage") == "plan"], "resumed from START instead of the checkpoint"


def test_db_env_points_settings_and_runtime_at_each_backend(db_env, db_runtime):
    url = db_env["STORYLOOM_DATABASE_URL"]
    assert Settings().db_url == url == db_runtime.settings.db_url
    expected = "postgresql" if url.startswith("postgresql") else "sqlite"
    assert db_runtime.db.engine.dialect.name == expected
    with db_runtime.db.session() as s:  # migrated and writable
        assert repo.create_run(s, kind="story", request="r", profile="offline").id
