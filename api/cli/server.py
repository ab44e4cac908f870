"""`storyloom serve`: the HTTP API on uvicorn (with its workers, or with `--workers 0` the API only)."""
from __future__ import annotations

import argparse

import uvicorn

from api.app import create_app
from api.cli.common import runtime
from api.cli.render import console
from api.errors import UsageError
from memory.server_lock import ServerLock, ServerRunning, process_note

MAX_HEADER_BYTES = 16_384  # request line plus headers; a bigger head is refused with 400


def serve(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: must be 1-65535")
    if args.workers is not None and not 0 <= args.workers <= 64:
        raise UsageError(f"--workers {args.workers}: must be 0-64")
    rt = runtime(args.profile)
    if args.workers is not None:
        rt.settings.server.workers = args.workers
    # Open event streams would hold a graceful shutdown forever: give them 5 s, then close them. Connections
    # are bounded in number (503 beyond), idle keep-alive time and header size; uvicorn has no deadline for
    # slow headers, so an exposed server belongs behind a reverse proxy (README, "Behind a reverse proxy").
    limits = rt.settings.server
    try:
        lock = ServerLock(rt.db).acquire()  # SQLite: one process; PostgreSQL: runs are leased, no lock
    except ServerRunning as exc:
        raise UsageError(str(exc)) from None
    console.print(f"Storyloom API on http://{args.host}:{args.port} (docs at /docs), profile {rt.profile}, "
                  f"database {rt.db.url}")
    console.print(process_note(lock, limits.workers, limits.lease_s))
    try:
        uvicorn.run(create_app(rt), host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=5,
                    limit_concurrency=limits.max_connections, timeout_keep_alive=limits.keep_alive_s,
                    h11_max_incomplete_event_size=MAX_HEADER_BYTES)
    finally:
        lock.release()
    return 0

