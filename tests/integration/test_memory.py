"""The SQL memory on SQLite and PostgreSQL: migrations match the models, SQLite setup, lineage round trip,
foreign keys, unique constraints, event ids."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from memory import Database, open_database, repo
from memory.db import current_revision, downgrade, head_revision, make_engine, upgrade
from memory.tables import ApiKey, Base, Event

TABLES = {"api_keys", "sessions", "messages", "runs", "steps", "assets", "scores", "entities", "events",
          "webhook_deliveries", "cast_entities"}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An empty database on each backend (see tests/fixtures/postgres.py)."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated database on each backend; PostgreSQL is never migrated implicitly, so upgrade first."""
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    db = open_database(db_url, auto_upgrade=False)
    yield db
    db.close()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_migration_creates_exactly_the_models(engine: Engine) -> None:
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert _tables(engine) == TABLES == set(Base.metadata.tables)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_up_again(engine: Engine) -> None:
    upgrade(engine)
    downgrade(engine, "base")
    assert _tables(engine) == set()
    assert current_revision(engine) is None
    upgrade(engine)
    assert _tables(engine) == TABLES


def test_open_database_creates_the_schema_in_wal_mode(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'new' / 'memory.db'}")
    try:
        assert current_revision(db.engine) == head_revision()
        with db.session() as s:
            assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.url.endswith("memory.db")
    finally:
        db.close()


def test_open_database_refuses_an_old_schema_without_auto_upgrade(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="storyloom db upgrade"):
        open_database(f"sqlite:///{tmp_path / 'memory.db'}", auto_upgrade=False)


def test_an_unreachable_server_is_one_clear_line() -> None:
    with pytest.raises(RuntimeError, match=r"^cannot open the database at postgresql://u:\*\*\*@127.0.0.1:9/x: ") as e:
        open_database("postgresql://u:secret@127.0.0.1:9/x")
    assert "\n" not in str(e.value) and "secret" not in str(e.value)


def test_a_libpq_style_url_uses_psycopg(pg_url: str) -> None:
    engine = make_engine(pg_url.replace("postgresql+psycopg://", "postgres://"))
    try:
        assert engine.dialect.driver == "psycopg" and current_revision(engine) is None
    finally:
        engine.dispose()


def test_postgresql_is_never_migrated_implicitly(pg_url: str) -> None:
    with pytest.raises(RuntimeError, match=r"is at revision None, expected .*storyloom db upgrade"):
        open_database(pg_url)
    engine = make_engine(pg_url)
    try:
        assert _tables(engine) == set()
    finally:
        engine.dispose()


def _write_lineage(db: Database) -> dict[str, str]:
    started = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    with db.session() as s:
        run = repo.create_run(s, kind="story", request="a keeper and a seal", profile="offline", seed=7)
        repo.update_run(s, run.id, status="running", started_at=started, plan={"steps": [{"id": "s1"}]})
        run.info["storyboard"] = "recipe"  # in-place JSON change must be saved too
        step = repo.create_step(s, run_id=run.id, key="s1", tool="image", args={"prompt": "a seal"})
        repo.update_step(s, step.id, status="succeeded", values={"image": "x"}, duration_s=1.5)
        parent = repo.create_asset(
            s,
            run_id=run.id,
            step_id=step.id,
            tool="image",
            name="image",
            role="scene-1-image",
            kind="image",
            mime="image/png",
            sha256="a" * 64,
            size=1234,
            width=64,
            height=48,
            duration=None,
            model_id="tiny/sd",
            model_revision="abc123",
            intent="a seal on a rock",
            seed=2**40,
            params={"steps": 2, "guidance": 7.5, "size": [64, 48]},
        )
        child = repo.create_asset(
            s,
            run_id=run.id,
            step_id=step.id,
            tool="image",
            name="image",
            kind="image",
            mime="image/png",
            sha256="b" * 64,
            size=99,
            seed=2**40 + 1,
            parent_id=parent.id,
        )
        score = repo.add_score(
            s,
            asset_id=child.id,
            run_id=run.id,
            metric="clip",
            value=0.31,
            model_id="tiny/clip",
            details={"reasons": ["seal visible"], "threshold": 0.25},
        )
        return {"run": run.id, "step": step.id, "parent": parent.id, "child": child.id, "score": score.id}


def test_lineage_round_trips(db: Database) -> None:
    ids = _write_lineage(db)
    with db.session() as s:
        run = repo.get_run(s, ids["run"])
        assert run is not None
        assert (run.kind, run.status, run.profile, run.seed) == ("story", "running", "offline", 7)
        assert run.plan == {"steps": [{"id": "s1"}]}
        assert run.info == {"storyboard": "recipe"}
        assert run.started_at == datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
        assert run.created_at.tzinfo is not None and run.finished_at is None
        assert [r.id for r in repo.list_runs(s)] == [run.id]

        (step,) = repo.list_steps(s, run.id)
        assert repo.get_step(s, run.id, "s1") is step
        assert (step.key, step.tool, step.args, step.intent) == ("s1", "image", {"prompt": "a seal"}, "")
        assert (step.status, step.values, step.duration_s, step.error) == (
            "succeeded",
            {"image": "x"},
            1.5,
            None,
        )

        parent, child = repo.list_assets(s, run_id=run.id)
        assert parent.id == ids["parent"] and child.id == ids["child"]
        assert (parent.run_id, parent.step_id, parent.tool, parent.name, parent.role) == (
            run.id,
            step.id,
            "image",
            "image",
            "scene-1-image",
        )
        assert (parent.kind, parent.mime, parent.sha256, parent.size) == (
            "image",
            "image/png",
            "a" * 64,
            1234,
        )
        assert (parent.width, parent.height, parent.duration) == (64, 48, None)
        assert (parent.model_id, parent.model_revision) == ("tiny/sd", "abc123")
        assert (parent.intent, parent.seed) == ("a seal on a rock", 2**40)
        assert parent.params == {"steps": 2, "guidance": 7.5, "size": [64, 48]}
        assert parent.parent_id is None and parent.created_at.tzinfo is not None
        assert child.parent_id == parent.id and child.parent is parent
        assert (child.seed, child.intent, child.params, child.role) == (2**40 + 1, "", {}, None)

        (score,) = repo.list_scores(s, asset_id=child.id)
        assert score.id == ids["score"] and child.scores == [score]
        assert (score.run_id, score.metric, score.value, score.model_id) == (
            run.id,
            "clip",
            0.31,
            "tiny/clip",
        )
        assert score.details == {"reasons": ["seal visible"], "threshold": 0.25}
        assert repo.list_scores(s, run_id=run.id) == [score]


def test_entities_and_update_errors(db: Database) -> None:
    with db.session() as s:
        run = repo.create_run(s, kind="story", request="r", profile="offline")
        entity = repo.create_entity(s, name="Mara", kind="character", description="keeper", run_id=run.id)
        assert repo.list_entities(s, run_id=run.id) == [entity]
        assert repo.list_entities(s, session_id="0" * 32) == []
        with pytest.raises(KeyError):
            repo.update_run(s, "0" * 32, status="failed")
        with pytest.raises(TypeError):
            repo.update_run(s, run.id, stauts="failed")


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError), db.session() as s:
        repo.create_asset(s, run_id="0" * 32, kind="image", mime="image/png", sha256="c" * 64, size=1)
    with db.session() as s:
        assert repo.list_assets(s, run_id="0" * 32) == []


def test_unique_constraints_are_enforced(db: Database) -> None:
    with db.session() as s:
        s.add(ApiKey(id="k" * 32, name="client", key_hash="h" * 64))
        run_id = repo.create_run(s, kind="story", request="r", profile="offline").id
        repo.create_step(s, run_id=run_id, key="s1", tool="image", args={})
        first = repo.create_run(s, kind="brief", request="b", profile="offline", api_key_id="k" * 32)
        repo.update_run(s, first.id, idempotency_key="same")
    with pytest.raises(IntegrityError), db.session() as s:
        repo.create_step(s, run_id=run_id, key="s1", tool="speak", args={})
    with pytest.raises(IntegrityError), db.session() as s:
        other = repo.create_run(s, kind="brief", request="b", profile="offline", api_key_id="k" * 32)
        repo.update_run(s, other.id, idempotency_key="same")
    with db.session() as s:
        # Without a key, the same idempotency key is no conflict (NULLs are distinct on both backends).
        for _ in range(2):
            repo.update_run(s, repo.create_run(s, kind="brief", request="b", profile="offline").id,
                            idempotency_key="same")
        assert [st.tool for st in repo.list_steps(s, run_id)] == ["image"]
        assert len(repo.list_runs(s)) == 4


def test_event_ids_increase_across_runs(db: Database) -> None:
    with db.session() as s:
        runs = [repo.create_run(s, kind="story", request=str(i), profile="offline").id for i in range(2)]
    ids = []
    for i in range(6):
        with db.session() as s:
            event = Event(run_id=runs[i % 2], type="step", data={"n": i, "nested": {"ok": True}})
            s.add(event)
            s.flush()
            ids.append(event.id)
    assert ids == sorted(ids) and len(set(ids)) == 6 and all(isinstance(i, int) for i in ids)
    with db.session() as s:
        stored = s.scalars(select(Event).where(Event.run_id == runs[1]).order_by(Event.id)).all()
        assert [e.data["n"] for e in stored] == [1, 3, 5] and stored[0].data["nested"] == {"ok": True}
        assert stored[0].created_at.tzinfo is not None


def test_migration_0004_keeps_the_first_score_of_each_asset_and_metric(engine: Engine) -> None:
    upgrade(engine, "0003")
    rows = [("s1", "clip_score", 30.0, "2026-11-30 10:00:00"), ("s2", "clip_score", 31.0, "2026-11-30 10:00:05"),
            ("s3", "caption_score", 0.5, "2026-11-30 10:00:01")]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO assets (id, kind, mime, sha256, size, intent, params, created_at) "
                          "VALUES ('a1', 'image', 'image/png', :sha, 1, '', '{}', '2026-11-30 09:00:00')"),
                     {"sha": "0" * 64})
        for sid, metric, value, at in rows:  # a resumed critique stored clip_score twice
            conn.execute(text("INSERT INTO scores (id, asset_id, metric, value, details, created_at) "
                              "VALUES (:id, 'a1', :metric, :value, '{}', :at)"),
                         {"id": sid, "metric": metric, "value": value, "at": at})
    upgrade(engine)
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT id, metric, value FROM scores ORDER BY id")).all()
    assert [tuple(r) for r in kept] == [("s1", "clip_score", 30.0), ("s3", "caption_score", 0.5)]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO scores (id, asset_id, metric, value, details, created_at) "
                          "VALUES ('s4', 'a1', 'clip_score', 1, '{}', '2026-11-30 11:00:00')"))
