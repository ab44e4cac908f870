"""One process per SQLite database (issue 19: two servers on one database ran the same run twice).

PostgreSQL needs no such lock: runs are claimed with leases and fencing tokens there (memory/leases.py),
so any number of servers and workers share one database. SQLite has no row locks to claim with and one
writer at a time: an exclusive `flock` on `<database>.server.lock` beside the file, which the kernel drops
when the process ends, keeps a second server or worker out. An in-memory SQLite database is one
process's own: no lock.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from memory.db import Database


class ServerRunning(RuntimeError):
    """Another server holds this database."""


class ServerLock:
    """Held from `acquire()` until `release()` (or the process ends); nothing to hold on PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db, self._fd = db, None

    @property
    def shared(self) -> bool:
        """Whether several processes may use the database (PostgreSQL)."""
        return make_url(self.db.engine.url).get_backend_name() != "sqlite"

    def acquire(self) -> ServerLock:
        url = make_url(self.db.engine.url)
        if not self.shared and url.database not in (None, "", ":memory:"):
            self._lock_file(Path(url.database).expanduser().resolve())
        return self

    def _lock_file(self, database: Path) -> None:
        fd = os.open(f"{database}.server.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ServerRunning(f"another Storyloom server or worker is using the database {database}; stop it "
                                "first (SQLite takes one process: use PostgreSQL for several)") from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def process_note(lock: ServerLock, workers: int, lease_s: float) -> str:
    """The line a server or worker prints at start about how it shares the database."""
    if not lock.shared:
        return (f"runs: {workers} worker threads; SQLite: this is the only process on the database "
                "(use PostgreSQL for several servers and workers)")
    return f"runs: {workers} worker threads claiming runs from PostgreSQL with {lease_s:g} s leases"
