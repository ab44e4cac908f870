"""LangGraph's checkpointer, kept in the same database as the memory (one run = one thread)."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from agent.runtime import Runtime


@contextmanager
def checkpointer(rt: Runtime) -> Iterator[object]:
    """A checkpointer for `rt`'s database: SQLite's in the same file; others in memory for now."""
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.checkpoint.sqlite import SqliteSaver

    if rt.checkpoint_path is None:
        yield InMemorySaver()
        return
    conn = sqlite3.connect(rt.checkpoint_path, check_same_thread=False, timeout=30)
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()
