"""`storyloom models list|prepare`, `db upgrade` and `keys create|list|revoke`."""
from __future__ import annotations

import argparse

from huggingface_hub.utils import enable_progress_bars

from api.auth import create_key, list_keys, revoke_key
from api.cli import render
from api.cli.common import database, profile_name, settings
from api.cli.render import console, print_json
from api.errors import UsageError
from memory.db import current_revision, make_engine, upgrade
from tools.base import ToolError
from tools.model_manager import ModelManager
from tools.profiles import local_path, profile_specs


def models_list(args: argparse.Namespace) -> int:
    config = settings()
    profile = profile_name(args.profile or config.profile)
    rows = []
    for role, spec in profile_specs(profile).items():
        path = local_path(spec, config.models_path)
        rows.append({"role": role, "model_id": spec.model_id, "profile": profile, "source": spec.source,
                     "kind": "real" if spec.real else "tiny-random",
                     "path": str(path) if path else None, "present": bool(path and path.exists())})
    print_json(rows) if args.json else render.models_table(rows)
    return 0


def models_prepare(args: argparse.Namespace) -> int:
    enable_progress_bars()  # downloads are the one place library progress bars help
    config = settings()
    manager = ModelManager(profile_name(args.profile or config.profile), config.models_path)
    failures = 0
    for role, spec in manager.specs.items():
        try:
            manager.get(role)
            render.say(f"[green]ready[/]  {role:14} {spec.model_id}")
        except ToolError as exc:
            failures += 1
            render.say(f"[red]failed[/] {role:14} {exc}")
    return 1 if failures else 0


def db_upgrade(args: argparse.Namespace) -> int:
    engine = make_engine(settings().db_url)
    upgrade(engine)
    render.say(f"database {engine.url.render_as_string(hide_password=True)} is at revision {current_revision(engine)}")
    return 0


def keys_create(args: argparse.Namespace) -> int:
    try:
        key_id, key = create_key(database(), args.name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    console.print(f"key id {key_id} for {args.name!r}. The key is shown only now; keep it secret:", highlight=False)
    print(key)
    return 0


def keys_list(args: argparse.Namespace) -> int:
    rows = [{"id": k.id, "name": k.name, "created_at": k.created_at.isoformat(),
             "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None} for k in list_keys(database())]
    print_json(rows)
    return 0


def keys_revoke(args: argparse.Namespace) -> int:
    if not revoke_key(database(), args.key_id):
        raise UsageError(f"no key with id {args.key_id}")
    console.print(f"revoked {args.key_id}")
    return 0
