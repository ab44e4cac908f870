"""One process per SQLite database (issue 19): a second `storyloom serve` on the same file stops at once
with one line; the lock goes with the server. PostgreSQL takes any number (runs are leased, issue 17)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from memory import open_database
from memory.server_lock import ServerLock, ServerRunning, process_note
from tests.fixtures.server import free_port


def test_a_second_holder_is_refused_until_the_first_releases(runtime):
    first = ServerLock(runtime.db).acquire()
    try:
        with pytest.raises(ServerRunning, match="another Storyloom server or worker is using the database"):
            ServerLock(runtime.db).acquire()
    finally:
        first.release()
    ServerLock(runtime.db).acquire().release()


def test_postgresql_takes_any_number_of_processes(pg_migrated_url):
    db = open_database(pg_migrated_url)
    try:
        first, second = ServerLock(db).acquire(), ServerLock(db).acquire()  # runs are leased there (issue 17)
        assert first.shared and second.shared
        assert "claiming runs from PostgreSQL with 15 s leases" in process_note(first, 2, 15.0)
    finally:
        db.close()


@pytest.mark.parametrize("command", [["serve", "--port", str(free_port())], ["worker"]])
def test_a_second_process_on_the_same_sqlite_database_stops_with_one_line(runtime, env, command):
    held = ServerLock(runtime.db).acquire()
    try:
        result = subprocess.run([sys.executable, "-m", "api.cli", *command], env=env,
                                capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    finally:
        held.release()
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "another Storyloom server or worker is using the database" in lines[0]
