"""A throw-away PostgreSQL cluster (Debian's `postgresql` package) for the test session and the
chaos and load suites.

The cluster lives in a temp folder, listens on 127.0.0.1 only, runs with fsync off and trust auth. As
root it runs as the `postgres` system user (PostgreSQL refuses to run as root). It dies with the
process that started it, even when that one is killed (parent-death signal), so no stray server
outlives a crashed run. Every failure is a `PgUnavailable` with one line saying why.
"""
from __future__ import annotations

import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from memory.db import make_engine, upgrade

START_TIMEOUT_S = 30


class PgUnavailable(RuntimeError):
    """PostgreSQL could not be found, installed or started."""


@dataclass
class PgServer:
    """A running throw-away PostgreSQL cluster."""

    port: int
    process: subprocess.Popen
    root: Path
    host: str = "127.0.0.1"

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of `database` on this server."""
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        """Run one statement on the maintenance database (autocommit: CREATE DATABASE needs it)."""
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, template: str = "template0") -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def drop_database(self, name: str) -> None:
        # FORCE ends connections left open (a pooled engine, a checkpointer).
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_bin() -> Path:
    """The folder of initdb/postgres, installing Debian's package on a fresh root machine."""
    found = _find_pg_bin()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        _apt_install_postgresql()
        found = _find_pg_bin()
    if found is None:
        raise PgUnavailable("PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or PATH) and could "
                            "not be installed: run `apt-get install -y postgresql` as root")
    return found


def _find_pg_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    initdb = candidates[-1] if candidates else shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _apt_install_postgresql() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        # A fresh image may have no package lists yet.
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        subprocess.run(install, env=env, capture_output=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_ids() -> tuple[int, int] | None:
    """uid and gid to run the server as: `postgres` when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid


def _child_setup(ids: tuple[int, int] | None):
    """A preexec hook: drop to `ids`, then ask for SIGQUIT (immediate shutdown) when our process dies.

    The death signal must be set after the user switch (changing ids clears it), so the switch is done
    here rather than with Popen(user=...), which switches after preexec hooks run.
    """
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork: the child only calls it
    pr_set_pdeathsig = 1

    def setup() -> None:
        if ids is not None:
            os.setgroups([])
            os.setgid(ids[1])
            os.setuid(ids[0])
        prctl(pr_set_pdeathsig, signal.SIGQUIT)

    return setup


def start_cluster(bin_dir: Path, root: Path, max_connections: int = 200) -> PgServer:
    """initdb in `root` and start the server on a free loopback port."""
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in (root, sockets):
            shutil.chown(path, "postgres", "postgres")
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
              "--no-sync", "--no-instructions"]
    done = subprocess.run(initdb, capture_output=True, text=True, preexec_fn=_child_setup(_postgres_ids()))
    if done.returncode != 0:
        raise PgUnavailable(f"initdb failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    port = _free_port()
    options = {"listen_addresses": "127.0.0.1", "port": port, "unix_socket_directories": sockets, "fsync": "off",
               "synchronous_commit": "off", "full_page_writes": "off", "max_connections": max_connections}
    command = [str(bin_dir / "postgres"), "-D", str(data)]
    for key, value in options.items():
        command += ["-c", f"{key}={value}"]
    with (root / "server.log").open("wb") as log:  # the server keeps its own copy of the descriptor
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   preexec_fn=_child_setup(_postgres_ids()))
    server = PgServer(port=port, process=process, root=root)
    _wait_ready(server)
    return server


def _wait_ready(server: PgServer) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if server.process.poll() is not None:
            tail = (server.root / "server.log").read_text(errors="replace").strip().splitlines()[-3:]
            raise PgUnavailable(f"postgres exited with {server.process.returncode}: {' | '.join(tail)}")
        try:
            psycopg.connect(host=server.host, port=server.port, user="postgres", dbname="postgres",
                            connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                server.process.kill()
                raise PgUnavailable(f"postgres did not accept connections within {START_TIMEOUT_S} s") from None
            time.sleep(0.05)


def stop_cluster(server: PgServer) -> None:
    # SIGINT = fast shutdown: ends sessions and stops without waiting for clients to leave.
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@contextmanager
def throwaway_cluster() -> Iterator[PgServer]:
    """A cluster in a temp folder for the duration of the block; the folder goes with it."""
    bin_dir = pg_bin()
    root = Path(tempfile.mkdtemp(prefix="storyloom-pg-"))
    try:
        server = start_cluster(bin_dir, root)
        try:
            yield server
        finally:
            stop_cluster(server)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def migrated_database(server: PgServer) -> str:
    """A new database on `server` at the head migration; returns its SQLAlchemy URL."""
    url = server.url(server.create_database())
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return url
