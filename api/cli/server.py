"""`storyloom serve`: the HTTP API on uvicorn."""
from __future__ import annotations

import argparse

import uvicorn

from api.app import create_app
from api.cli.common import runtime
from api.cli.render import console
from api.errors import UsageError


def serve(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: must be 1-65535")
    rt = runtime(args.profile)
    console.print(f"Storyloom API on http://{args.host}:{args.port} (docs at /docs), profile {rt.profile}, "
                  f"database {rt.db.url}")
    # Open event streams would hold a graceful shutdown forever: give them 5 s, then close them.
    uvicorn.run(create_app(rt), host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=5)
    return 0
