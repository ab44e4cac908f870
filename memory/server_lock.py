"""One server per database (issue 19: two servers on one database ran the same run twice), until the
scale-out work gives runs leases.

PostgreSQL: a session-level advisory lock held on a connection of its own for the server's lifetime;
the database drops it when that connection ends, so a crashed server never leaves it behind (no
heartbeat needed). SQLite: an exclusive `flock` on `<database>.server.lock` beside the file, which the
kernel drops when the process ends. An in-memory SQLite database is one process's own: no lock.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from memory.db import Database

ADVISORY_KEY = 0x5354_4F52_594C  # "STORYL": the one lock id Storyloom uses


class ServerRunning(RuntimeError):
    """Another server holds this database."""


class ServerLock:
    """Held from `acquire()` until `release()` (or the process ends)."""

    def __init__(self, db: Database) -> None:
        self.db, self._conn, self._fd = db, None, None

    def acquire(self) -> ServerLock:
        url = make_url(self.db.engine.url)
        if url.get_backend_name() == "sqlite":
            if url.database not in (None, "", ":memory:"):
                self._lock_file(Path(url.database).expanduser().resolve())
            return self
        conn = self.db.engine.connect()
        got = conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({ADVISORY_KEY})").scalar()
        conn.commit()
        if not got:
            conn.close()
            raise ServerRunning(f"another Storyloom server is using the database {self.db.url}; stop it first")
        self._conn = conn
        return self

    def _lock_file(self, database: Path) -> None:
        fd = os.open(f"{database}.server.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ServerRunning(f"another Storyloom server is using the database {database}; stop it first") from None
        self._fd = fd

    def release(self) -> None:
        if self._conn is not None:
            self._conn.exec_driver_sql(f"SELECT pg_advisory_unlock({ADVISORY_KEY})")
            self._conn.close()
            self._conn = None
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
