"""`storyloom serve` and `storyloom keys ...`."""
from __future__ import annotations

import argparse

from api.errors import UsageError
from api.render import console, print_json


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.commands import _runtime

    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: must be 1-65535")
    rt = _runtime(args.profile)
    console.print(f"Storyloom API on http://{args.host}:{args.port} (docs at /docs), profile {rt.profile}, "
                  f"database {rt.db.url}")
    # Open event streams would hold a graceful shutdown forever: give them 5 s, then close them.
    uvicorn.run(create_app(rt), host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=5)
    return 0


def _db():
    from api.commands import _settings
    from memory import open_database

    try:
        return open_database(_settings().db_url)
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None


def keys_create(args: argparse.Namespace) -> int:
    from api.auth import create_key

    try:
        key_id, key = create_key(_db(), args.name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    console.print(f"key id {key_id} for {args.name!r}. The key is shown only now; keep it secret:", highlight=False)
    print(key)
    return 0


def keys_list(args: argparse.Namespace) -> int:
    from api.auth import list_keys

    rows = [{"id": k.id, "name": k.name, "created_at": k.created_at.isoformat(),
             "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None} for k in list_keys(_db())]
    print_json(rows)
    return 0


def keys_revoke(args: argparse.Namespace) -> int:
    from api.auth import revoke_key

    if not revoke_key(_db(), args.key_id):
        raise UsageError(f"no key with id {args.key_id}")
    console.print(f"revoked {args.key_id}")
    return 0
