"""LangGraph's checkpointer, kept in the same database as the memory (one run = one thread).

`checkpointer(rt)` is entered once per run execution, possibly from several worker threads at once;
each entry opens its own connection, so concurrent runs never share one (SQLite connections and
psycopg connections are not meant to be driven by two threads at the same time).
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from agent.runtime import Runtime
from memory import leases

# Checkpoint tables already created by this process, per database: setup() needs to run once only.
_ready: set[str] = set()
_ready_lock = threading.Lock()
# Any fixed number: an advisory lock that serialises setup() between processes (two servers starting).
_SETUP_LOCK_KEY = 0x5770_4C00


@contextmanager
def checkpointer(rt: Runtime) -> Iterator[object]:
    """A checkpointer for `rt`'s database: SQLite's in the same file, PostgreSQL's in the same database,
    in memory for anything else."""
    url = rt.settings.db_url
    if rt.checkpoint_path is not None:
        with _sqlite_saver(rt.checkpoint_path) as saver:
            yield fenced(saver, rt)
    elif make_url(url).get_backend_name() == "postgresql":
        with _postgres_saver(libpq_url(url)) as saver:
            yield fenced(saver, rt)
    else:
        from langgraph.checkpoint.memory import InMemorySaver

        yield InMemorySaver()


def fenced(saver, rt: Runtime):
    """`saver`, whose checkpoint writes first check the run's lease when the caller works under one
    (memory/leases.py): a worker whose run was taken over writes no checkpoint for it. The checkpoint
    goes through another connection, so the check comes just before the write, not in its transaction."""
    if leases.current() is None:
        return saver
    for name in ("put", "put_writes"):
        write = getattr(saver, name)

        def checked(*args, _write=write, **kwargs):
            leases.verify(rt.db)
            return _write(*args, **kwargs)

        setattr(saver, name, checked)
    return saver


def libpq_url(url: str) -> str:
    """SQLAlchemy's `postgresql+psycopg://...` as the `postgresql://...` that libpq (psycopg) takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _sqlite_saver(path: str) -> Iterator[object]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()


@contextmanager
def _postgres_saver(conninfo: str) -> Iterator[object]:
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg import Connection
    from psycopg.rows import dict_row

    # PostgresSaver's own requirements: autocommit (it commits nothing itself), rows as dicts, and no
    # server-side prepared statements (they break behind PgBouncer in transaction mode).
    with Connection.connect(conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row) as conn:
        saver = PostgresSaver(conn)
        _setup_once(saver, conn, conninfo)
        yield saver


def _setup_once(saver, conn, conninfo: str) -> None:
    """Create or migrate the checkpoint tables once per process and database, one process at a time."""
    with _ready_lock:
        if conninfo in _ready:
            return
        # Polled, not waited for: setup() creates indexes CONCURRENTLY, which waits for every open
        # transaction, and a blocked pg_advisory_lock call is one (two workers starting together deadlocked).
        while not conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (_SETUP_LOCK_KEY,)).fetchone()["got"]:
            time.sleep(0.05)
        try:
            saver.setup()
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_KEY,))
        _ready.add(conninfo)
