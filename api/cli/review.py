"""Review before rendering on the command line: `storyloom story ... --review` stops after planning and
writes `storyboard.yaml` into the output folder; `storyloom runs approve RUN_ID [--storyboard FILE]`
continues the run with the (edited) file, in this process, from where it stopped."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from agent.recipes.review import BoardError
from agent.service import review
from agent.service.runs import execute_run
from agent.service.summary import summarize
from api.cli import render
from api.cli.common import runtime
from api.cli.render import print_json
from api.errors import UsageError
from memory import repo

MAX_BOARD_BYTES = 256 * 1024
HEADER = ("# The storyboard of run {run_id}, awaiting review. Edit the title, cast, style and each scene's\n"
          "# narration, picture prompt or seed; a scene with locked: true keeps what it has.\n"
          "# Then: {command}\n")


def paused(rt: Any, summary: dict[str, Any], *, as_json: bool) -> int:
    """The run stopped for review: write storyboard.yaml, say the next command, exit 0."""
    run_id = summary["id"]
    board = review.current(rt, run_id).model_dump()
    path = Path(summary["output_dir"]) / "storyboard.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    command = f"storyloom runs approve {run_id} --storyboard {path}"
    text = HEADER.format(run_id=run_id, command=command) + yaml.safe_dump(board, sort_keys=False, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    if as_json:
        print_json({**summary, "storyboard_file": str(path), "next": command})
    else:
        print(f"run {run_id} awaits review; its storyboard is in {path}")
        print(f"next: {command}")
    return 0


def runs_approve(args: argparse.Namespace) -> int:
    """Approve a paused run (with the edited file, if given) and render it here."""
    board = read_board(args.storyboard) if args.storyboard else None
    rt = runtime(args.profile)
    with rt.db.session() as s:
        run = repo.get_run(s, args.run_id)
        if run is None:
            raise UsageError(f"no run with id {args.run_id!r}")
        if run.api_key_id is not None:
            raise UsageError(f"run {args.run_id} was made through the API: approve it with "
                             f"POST /v1/runs/{args.run_id}/approve")
    try:
        review.approve(rt, args.run_id, board)
    except (BoardError, review.NotAwaitingReview) as exc:
        raise UsageError(f"{args.storyboard or args.run_id}: {exc}" if isinstance(exc, BoardError) else str(exc)) \
            from None
    with render.RunProgress(args.run_id, rt.profile, total_steps=_steps(rt, args.run_id), enabled=not args.json) as bar:
        rt.models.on_load = bar.model_loading
        summary = execute_run(rt, args.run_id, emit=bar.event)
    print_json(summary) if args.json else render.story_summary(summary)
    return 0 if summary["status"] == "succeeded" else 1


def read_board(path: Path) -> object:
    """The YAML of a storyboard file, bounded; UsageError (one line) when it cannot be read."""
    path = path.expanduser()
    try:
        if path.stat().st_size > MAX_BOARD_BYTES:
            raise UsageError(f"{path}: the file is larger than {MAX_BOARD_BYTES // 1024} KiB")
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid YAML ({' '.join(str(exc).split())[:200]})") from None


def _steps(rt: Any, run_id: str) -> int:
    """How many steps the progress bar counts: the planned ones (the approved board keeps their number)."""
    return len((summarize(rt, run_id).get("plan") or {}).get("steps", [])) or 1
