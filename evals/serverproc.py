"""One real API server as a subprocess (`python -m api.cli serve`) on a throw-away data dir, for the
chaos and load suites: start it, wait until it answers, SIGKILL it, start it again. Its output goes to
one log file across restarts, so errors such as "database is locked" can be counted afterwards.

The database is SQLite in the data dir, a database on a throw-away PostgreSQL cluster (`postgres`),
or a given URL (already migrated: PostgreSQL is never migrated implicitly).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from agent.settings import Settings
from evals.pgcluster import migrated_database, throwaway_cluster

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120.0
# Small runs for the suites: the LLM is a closed port, so storyboards and texts come from the recipes
# at once (a revision's prompt rewrite too) instead of the embedded LLM loading on the measured cores;
# story pictures and frames are 64 px. The suites are about the API and durability, not model time.
SMALL_RUNS_ENV = {"STORYLOOM_LLM__BASE_URL": "http://127.0.0.1:9/v1", "STORYLOOM_LLM__TIMEOUT": "2",
                  "STORYLOOM_STORY__IMAGE_SIZE": "64", "STORYLOOM_STORY__IMAGE_STEPS": "2",
                  "STORYLOOM_STORY__VIDEO_SIZE": "64", "STORYLOOM_STORY__VIDEO_FPS": "4"}


@dataclass
class Stage:
    """A throw-away place to run a server: its data dir, database and environment."""

    data_dir: Path
    database_url: str
    database: str  # sqlite | postgresql
    env: dict[str, str]


@contextmanager
def stage(database: str = "sqlite", database_url: str | None = None, env: dict[str, str] | None = None,
          data_dir: Path | None = None) -> Iterator[Stage]:
    """A data dir and a database (`database` sqlite or postgres, or `database_url`). The data dir is a
    temp folder removed after the block, unless `data_dir` is given (kept, and reused if it exists).
    `env` adds STORYLOOM_* settings for the server."""
    models = Settings().models_path  # the caller's model cache: tiny models are not built again
    with ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(tempfile.mkdtemp(prefix="storyloom-stage-"))
            stack.callback(shutil.rmtree, data_dir, True)
        data_dir = data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        url = database_url
        if url is None and database == "postgres":
            url = migrated_database(stack.enter_context(throwaway_cluster()))
        url = url or f"sqlite:///{data_dir / 'storyloom.db'}"
        values = {"STORYLOOM_DATA_DIR": str(data_dir), "STORYLOOM_DATABASE_URL": url, "STORYLOOM_PROFILE": "offline",
                  "STORYLOOM_MODELS_DIR": str(models), **(env or {})}
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("STORYLOOM_")}
        path = os.pathsep.join(p for p in (str(ROOT), inherited.get("PYTHONPATH", "")) if p)
        kind = "sqlite" if url.startswith("sqlite") else "postgresql"
        yield Stage(data_dir, url, kind, {**inherited, **values, "PYTHONPATH": path})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`storyloom serve` on a fixed port; `kill()` is SIGKILL, `start()` starts it (again)."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None,
                 args: tuple[str, ...] = ()) -> None:
        self.env, self.log_path, self.port, self.args = env, log_path, port or free_port(), args
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = START_TIMEOUT_S) -> float:
        """Start the server and wait until /healthz answers; returns the seconds that took."""
        started = time.monotonic()
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {self.starts} ===\n".encode())
            log.flush()
            self.process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(self.port),
                                             *self.args],
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut or an OOM kill."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process:
            self.process.wait(30)

    def stop(self) -> None:
        """A graceful stop (SIGTERM), SIGKILL after 15 s."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process has used so far (Linux /proc)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 5) -> str:
        return " | ".join(self.log_text().strip().splitlines()[-lines:])


class WorkerProcess:
    """`storyloom worker` (no HTTP): `start()` returns once it says it is ready; `kill()` is SIGKILL."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 1) -> None:
        self.env, self.log_path, self.workers = env, log_path, workers
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = START_TIMEOUT_S) -> WorkerProcess:
        """Start the worker and wait until it is ready."""
        return self.launch().ready(timeout)

    def launch(self) -> WorkerProcess:
        """Start the worker without waiting (start several, then wait for each with `ready`)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--workers", str(self.workers)],
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def ready(self, timeout: float = START_TIMEOUT_S) -> WorkerProcess:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited with {self.process.returncode}: {self.log_text()[-500:]}")
            if "runs waiting" in self.log_text():
                return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the worker did not start within {timeout:.0f} s: {self.log_text()[-500:]}")

    kill = ServerProcess.kill
    stop = ServerProcess.stop

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def create_keys(env: dict[str, str], names: list[str]) -> list[str]:
    """API keys made with `storyloom keys create` (in parallel: each call starts Python)."""
    calls = [subprocess.Popen([sys.executable, "-m", "api.cli", "keys", "create", name], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in names]
    keys = []
    for call in calls:
        out, err = call.communicate(timeout=120)
        if call.returncode != 0:
            raise RuntimeError(f"keys create failed: {err.strip()[-300:]}")
        keys.append(out.strip().splitlines()[-1])
    return keys
