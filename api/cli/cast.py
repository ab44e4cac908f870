"""`storyloom cast list|add|show|rm`: the cast bank of the command line's own runs (or, with --key-id,
of an API key), the same bank `/v1/entities` serves."""
from __future__ import annotations

import argparse
from typing import Any

from agent import cast_bank
from api.cli.common import runtime
from api.cli.render import print_json, say
from api.errors import UsageError
from memory import repo


def cast_list(args: argparse.Namespace) -> int:
    rt = runtime(None)
    with rt.db.session() as s:
        rows = [cast_bank.entity_dict(r) for r in repo.list_cast_entities(s, owner=args.key_id, kind=args.kind)]
    if args.json:
        print_json(rows)
    for row in [] if args.json else rows:
        print(_line(row))
    if not rows and not args.json:
        say("the cast bank is empty: `storyloom cast add NAME --look ...`")
    return 0


def cast_add(args: argparse.Namespace) -> int:
    reference = _read(args.image) if args.image else None
    try:
        row = cast_bank.add_entity(runtime(None), owner=args.key_id, kind=args.kind, name=args.name,
                                   look=args.look or "", voice=args.voice, reference=reference)
    except cast_bank.CastError as exc:
        raise UsageError(str(exc)) from None
    print(row["id"])
    return 0


def cast_show(args: argparse.Namespace) -> int:
    rt = runtime(None)
    with rt.db.session() as s:
        row = repo.get_cast_entity(s, args.entity_id, owner=args.key_id)
        if row is None:
            raise UsageError(f"no entity with id {args.entity_id}")
        entity = cast_bank.entity_dict(row)
    if entity["reference_sha256"]:
        entity["reference_path"] = str(rt.store.path(entity["reference_sha256"]))
    print_json(entity)
    return 0


def cast_rm(args: argparse.Namespace) -> int:
    with runtime(None).db.session() as s:
        if not repo.delete_cast_entity(s, args.entity_id, owner=args.key_id):
            raise UsageError(f"no entity with id {args.entity_id}")
    say(f"removed {args.entity_id} (runs that used it keep their own copy)")
    return 0


def _read(path) -> bytes:
    """The file's bytes, its size checked first (the picture itself is checked by the bank)."""
    path = path.expanduser()
    if not path.is_file():
        raise UsageError(f"--image {path} is not a file")
    if path.stat().st_size > cast_bank.MAX_REFERENCE_BYTES:
        raise UsageError(f"--image {path} is {path.stat().st_size} bytes; the limit is {cast_bank.MAX_REFERENCE_BYTES}")
    return path.read_bytes()


def _line(row: dict[str, Any]) -> str:
    picture = "picture" if row["reference_sha256"] else "no picture"
    voice = f", voice {row['voice']}" if row["voice"] else ""
    return f"{row['id']}  {row['kind']:<9}  {row['name']}: {row['look'] or '-'} ({picture}{voice})"
