"""One server per database (issue 19): a second `storyloom serve` on the same database stops at once
with one line; the lock goes with the server (on SQLite and on PostgreSQL)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from memory.server_lock import ServerLock, ServerRunning
from tests.fixtures.server import free_port


def test_a_second_holder_is_refused_until_the_first_releases(db_runtime):
    first = ServerLock(db_runtime.db).acquire()
    try:
        with pytest.raises(ServerRunning, match="another Storyloom server is using the database"):
            ServerLock(db_runtime.db).acquire()
    finally:
        first.release()
    ServerLock(db_runtime.db).acquire().release()


def test_a_second_serve_command_on_the_same_database_stops_with_one_line(runtime, env):
    held = ServerLock(runtime.db).acquire()
    try:
        result = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--port", str(free_port())], env=env,
                                capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    finally:
        held.release()
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "another Storyloom server is using the database" in lines[0]
