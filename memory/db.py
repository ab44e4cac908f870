"""Engines, schema migrations and the session factory of Storyloom's memory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets its folder created, WAL, foreign keys and a busy timeout.

    PostgreSQL URLs without a driver (`postgresql://`, `postgres://`, as libpq writes them) use psycopg 3,
    the driver that is installed (SQLAlchemy would otherwise look for psycopg2).
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        # pre_ping: a server restart must not hand a dead pooled connection to the next run.
        return create_engine(parsed, pool_pre_ping=True)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if parsed.database in (None, "", ":memory:"):
        # Every pooled connection would otherwise get its own, empty, in-memory database.
        kwargs["poolclass"] = StaticPool
    else:
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the API) work while a run writes; foreign keys are off by default in SQLite;
    # the busy timeout makes concurrent writers wait instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# LangGraph's checkpointer keeps its tables in the same database (SqliteSaver: checkpoints, writes;
# PostgresSaver: checkpoints, checkpoint_*). They are not ours: migrations and autogenerate leave them alone.
CHECKPOINT_TABLES = frozenset({"checkpoints", "writes", "checkpoint_blobs", "checkpoint_writes",
                               "checkpoint_migrations"})


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's `include_name` hook: compare everything except the checkpointer's tables."""
    return not (type_ == "table" and name in CHECKPOINT_TABLES)


def _alembic_config() -> Config:
    # Built in code so no alembic.ini is needed at runtime (installed wheels have no repo root).
    config = Config()
    config.set_main_option("script_location", str(resources.files("migrations")))
    return config


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations recreate tables; with foreign keys on, dropping a referenced table
            # would delete or reject rows. The pragma only takes effect outside a transaction.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            yield conn
            conn.commit()
        finally:
            if sqlite:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind `engine` up to `revision`."""
    config = _alembic_config()
    with _migration_connection(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database behind `engine` down to `revision` ("base" drops every table)."""
    config = _alembic_config()
    with _migration_connection(engine) as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The migration revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest migration revision this code ships."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found in the migrations package")
    return head


class Database:
    """An engine plus a session factory; `session()` is one unit of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Objects stay readable after commit, so they can be handed to code outside the session.
        self.sessionmaker = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        """The database URL with any password masked (safe to log)."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block succeeds and rolls back when it raises."""
        with self.sessionmaker.begin() as s:
            yield s

    def ping(self) -> None:
        """One round trip to the database (raises when it does not answer)."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        """Close pooled connections (needed before deleting a SQLite file on Windows)."""
        self.engine.dispose()


def open_database(url: str, *, auto_upgrade: bool = True) -> Database:
    """Open the database at `url`, creating or upgrading a SQLite schema when allowed.

    Shared servers (PostgreSQL) are never migrated implicitly: an out-of-date schema raises
    RuntimeError naming the command that upgrades it.
    """
    engine = make_engine(url)
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        current, head = current_revision(engine), head_revision()
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise RuntimeError(f"cannot open the database at {shown}: {reason}") from None
    if current != head and auto_upgrade and engine.dialect.name == "sqlite":
        upgrade(engine)
        current = current_revision(engine)
    if current != head:
        engine.dispose()
        raise RuntimeError(
            f"database at {shown} is at revision {current}, expected {head}: run `storyloom db upgrade`"
        )
    return Database(engine)
