"""The `storyloom` command line: the parser and the dispatch to each command. Arguments are checked
before anything is created, so a bad call prints one line, exits 2 and leaves nothing behind.

Each command's module is imported by name when that command runs (the table in `_dispatch`), so
`storyloom --help` and a usage error answer at once without loading the database, web or model
libraries. This is the only import by name in the project and it points one way: main -> command.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from pathlib import Path

from api.errors import UsageError

PROFILES = ("auto", "offline", "cpu", "gpu")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's default prints the whole usage block
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="storyloom", description="Multimodal stories and media from one request, self-hosted.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    story = sub.add_parser("story", help="write, illustrate and narrate a story, then compose its video")
    story.add_argument("prompt", help='what the story is about, e.g. "a lighthouse keeper and a seal"')
    story.add_argument("--scenes", type=int, default=3, help="number of scenes, 1-24 (default 3)")
    story.add_argument("--seed", type=int, default=0, help="seed for every model call (default 0)")
    story.add_argument("--profile", choices=PROFILES, help="model profile (default: STORYLOOM_PROFILE or auto)")
    story.add_argument("--out", type=Path, help="output folder (default: <data dir>/outputs/<run id>)")
    story.add_argument("--json", action="store_true", help="print the run summary as JSON")
    story.add_argument("--review", action="store_true", help="stop after planning: write storyboard.yaml to edit, "
                       "then `storyloom runs approve RUN_ID --storyboard FILE`")
    story.add_argument("--save-cast", action="store_true", help="keep the story's characters in the cast bank")

    plan = sub.add_parser("plan", help="show the validated plan for a request without running it")
    plan.add_argument("request", help="what you want, in plain words")
    plan.add_argument("--profile", choices=PROFILES)
    plan.add_argument("--json", action="store_true")

    run = sub.add_parser("run", help="plan and run a free-form request through the same graph")
    run.add_argument("request", help='e.g. "draw a red fox in snow, make a 4 second clip of it running"')
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--profile", choices=PROFILES)
    run.add_argument("--out", type=Path, help="output folder (default: <data dir>/outputs/<run id>)")
    run.add_argument("--json", action="store_true")

    runs = sub.add_parser("runs", help="list and inspect runs").add_subparsers(dest="action", required=True)
    runs_list = runs.add_parser("list", help="recent runs, newest first")
    runs_list.add_argument("--limit", type=int, default=20)
    runs_list.add_argument("--json", action="store_true")
    runs_show = runs.add_parser("show", help="one run: status, steps, assets, scores, error")
    runs_show.add_argument("run_id")
    runs_show.add_argument("--json", action="store_true")
    runs_approve = runs.add_parser("approve", help="continue a run awaiting review, with an edited storyboard.yaml")
    runs_approve.add_argument("run_id")
    runs_approve.add_argument("--storyboard", type=Path, help="the edited storyboard (default: the one shown)")
    runs_approve.add_argument("--profile", choices=PROFILES)
    runs_approve.add_argument("--json", action="store_true")

    models = sub.add_parser("models", help="the models of each profile").add_subparsers(dest="action", required=True)
    models_list = models.add_parser("list", help="per role: model id, real or tiny-random, local path")
    models_list.add_argument("--profile", choices=PROFILES)
    models_list.add_argument("--json", action="store_true")
    prepare = models.add_parser("prepare", help="download (cpu/gpu) or build (offline) every model of a profile")
    prepare.add_argument("--profile", choices=PROFILES)

    tool = sub.add_parser("tool", help="run one tool by hand").add_subparsers(dest="action", required=True)
    tool_run = tool.add_parser("run", help="run tool NAME with JSON arguments; prints the assets it made")
    tool_run.add_argument("name", help="tool name (see `storyloom tool list`)")
    tool_run.add_argument("--args", default="{}", help='JSON object; "@path" imports a local file as an input')
    tool_run.add_argument("--profile", choices=PROFILES)
    tool.add_parser("list", help="every tool with its description and input schema")

    ev = sub.add_parser("eval", help="run an evaluation suite and write report.json + report.html")
    ev.add_argument("suite", help="story, narration or planner (see evals/suites/)")
    ev.add_argument("--profile", choices=PROFILES)
    ev.add_argument("--limit", type=int, help="run only the first N cases")
    ev.add_argument("--out", type=Path, help="report folder (default: <data dir>/evals/<suite>)")
    ev.add_argument("--storyboard-only", action="store_true",
                    help="story suite: write only the storyboards (adherence and titles, no pictures or speech)")

    serve = sub.add_parser("serve", help="run the HTTP API (FastAPI on uvicorn) with its background workers")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--profile", choices=PROFILES)
    serve.add_argument("--workers", type=int, help="worker threads (default STORYLOOM_SERVER__WORKERS); "
                       "0: the API only, runs are executed by `storyloom worker` (PostgreSQL)")

    worker = sub.add_parser("worker", help="execute queued runs without HTTP (any number of them on PostgreSQL)")
    worker.add_argument("--workers", type=int, help="worker threads (default STORYLOOM_SERVER__WORKERS)")
    worker.add_argument("--profile", choices=PROFILES)

    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    keys_create = keys.add_parser("create", help="make a key; it is printed once and stored hashed")
    keys_create.add_argument("name", help="who the key is for")
    keys.add_parser("list", help="every key: id, name, created, revoked")
    keys_revoke = keys.add_parser("revoke", help="revoke a key by id")
    keys_revoke.add_argument("key_id")

    narrate = sub.add_parser("narrate", help="describe a media library for blind and low-vision people",
                             description="Alt text for images (a copy of each image carrying it as IPTC/XMP "
                             "alt text and extended description is always written), transcripts and captions "
                             "for audio, audio description for video; report.json and report.html. Exit 1 "
                             "when an item failed.")
    narrate.add_argument("paths", nargs="+", type=Path, help="files or folders (searched recursively)")
    narrate.add_argument("--out", type=Path, help="output folder (default: <data dir>/narrations/<name>)")
    narrate.add_argument("--resume", action="store_true", help="skip finished items, retry failed ones")
    narrate.add_argument("--dry-run", action="store_true", help="list what would be done, do nothing")
    narrate.add_argument("--profile", choices=PROFILES)
    narrate.add_argument("--json", action="store_true", help="print the report as JSON")

    cast = sub.add_parser("cast", help="the cast bank: characters, styles and places kept for later stories"
                          ).add_subparsers(dest="action", required=True)
    cast_list = cast.add_parser("list", help="banked entities, oldest first")
    cast_list.add_argument("--kind", choices=("character", "style", "place"))
    cast_list.add_argument("--json", action="store_true")
    cast_add = cast.add_parser("add", help="bank a character (or --kind style/place); prints its id")
    cast_add.add_argument("name", help="1-80 characters, e.g. Mara")
    cast_add.add_argument("--kind", choices=("character", "style", "place"), default="character")
    cast_add.add_argument("--look", help='how it looks, e.g. "an otter in a red scarf" (a style: its prompt text)')
    cast_add.add_argument("--voice", help="a character's voice (heart)")
    cast_add.add_argument("--image", type=Path, help="a reference picture (PNG, JPEG, WebP...)")
    cast_show = cast.add_parser("show", help="one entity as JSON, with its reference picture's path")
    cast_show.add_argument("entity_id")
    cast_rm = cast.add_parser("rm", help="forget an entity (runs that used it keep their copy)")
    cast_rm.add_argument("entity_id")
    for command in (cast_list, cast_add, cast_show, cast_rm):
        command.add_argument("--key-id", help="an API key's bank instead of the command line's own")

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="migrate the database to the latest schema")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return _dispatch(args)
    except UsageError as exc:
        print(f"storyloom: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("storyloom: interrupted", file=sys.stderr)
        return 130


COMMANDS = {
    ("story", None): "runs:story", ("plan", None): "runs:plan", ("run", None): "runs:run",
    ("runs", "list"): "runs:runs_list", ("runs", "show"): "runs:runs_show",
    ("runs", "approve"): "review:runs_approve",
    ("models", "list"): "admin:models_list", ("models", "prepare"): "admin:models_prepare",
    ("db", "upgrade"): "admin:db_upgrade", ("keys", "create"): "admin:keys_create",
    ("keys", "list"): "admin:keys_list", ("keys", "revoke"): "admin:keys_revoke",
    ("serve", None): "server:serve", ("worker", None): "worker:worker", ("narrate", None): "narrate:narrate",
    ("tool", "run"): "tool_calls:tool_run", ("tool", "list"): "tool_calls:tool_list",
    ("eval", None): "evaluate:evaluate",
    ("cast", "list"): "cast:cast_list", ("cast", "add"): "cast:cast_add", ("cast", "show"): "cast:cast_show",
    ("cast", "rm"): "cast:cast_rm",
}


def _dispatch(args: argparse.Namespace) -> int:
    _quiet_libraries()
    module, name = COMMANDS[(args.command, getattr(args, "action", None))].split(":")
    handler = getattr(importlib.import_module(f"api.cli.{module}"), name)
    return handler(args)


def _quiet_libraries() -> None:
    """Library chatter (deprecation notes, download bars) would bury our own progress display."""
    for name, value in {"TRANSFORMERS_VERBOSITY": "error", "DIFFUSERS_VERBOSITY": "error",
                        "TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}.items():
        os.environ.setdefault(name, value)
    warnings.filterwarnings("ignore")


if __name__ == "__main__":
    sys.exit(main())
