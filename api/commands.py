"""What each CLI command does; `api/cli.py` parses, this module acts, `api/render.py` draws."""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from pydantic import ValidationError

from api import render
from api.errors import UsageError
from api.render import print_json


def _settings():
    from agent.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        raise UsageError(f"bad STORYLOOM_* setting: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}"


def _runtime(profile: str | None):
    from agent.runtime import Runtime

    try:
        return Runtime.open(_settings(), profile=profile)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def check_writable_dir(path: Path) -> None:
    """Refuse an output folder we could not write, without creating anything."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"--out {path}: {probe} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot write in {probe} ({exc.strerror or exc})") from None


def story(args: argparse.Namespace) -> int:
    from agent.service import StoryRequest, create_story_run, execute_run

    try:
        request = StoryRequest(prompt=args.prompt, scenes=args.scenes, seed=args.seed)
    except ValidationError as exc:
        raise UsageError(_story_error(exc)) from None
    if args.out is not None:
        check_writable_dir(args.out.expanduser())
    rt = _runtime(args.profile)
    run_id = create_story_run(rt, request, out_dir=args.out.expanduser() if args.out else None)
    with render.RunProgress(run_id, rt.profile, total_steps=2 * request.scenes + 1, enabled=not args.json) as bar:
        rt.models.on_load = bar.model_loading
        summary = execute_run(rt, run_id, emit=bar.event)
    if args.json:
        print_json(summary)
    else:
        render.story_summary(summary)
    return 0 if summary["status"] == "succeeded" else 1


def _story_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = err["loc"][0] if err["loc"] else "value"
    if field == "scenes":
        return "--scenes must be between 1 and 24"
    if field == "seed":
        return "--seed must be between 0 and 2147483647"
    return f"{field}: {err['msg'].removeprefix('Value error, ')}"


def plan(args: argparse.Namespace) -> int:
    """Plan only: the intent, where the plan came from (LLM, repair, fallback, recipe) and its steps."""
    from agent.planner import plan_request
    from agent.recipes import story as story_recipe

    rt = _runtime(args.profile)
    try:
        result = plan_request(rt.llm, args.request)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    made = result.plan
    if made is None and result.intent == "story":
        board = story_recipe.write_storyboard(rt.llm, args.request, 3, seed=0).storyboard
        made = story_recipe.compile_plan(board, rt.settings.story, seed=0)
    data = {**result.to_dict(), "plan": made.model_dump() if made else None}
    print_json(data) if args.json else render.plan_detail(result.summary(), made)
    return 0


def run(args: argparse.Namespace) -> int:
    from agent.service import FreeformRequest, create_freeform_run, execute_run

    try:
        request = FreeformRequest(request=args.request, seed=args.seed)
    except ValidationError as exc:
        raise UsageError(_story_error(exc)) from None
    if args.out is not None:
        check_writable_dir(args.out.expanduser())
    rt = _runtime(args.profile)
    run_id = create_freeform_run(rt, request, out_dir=args.out.expanduser() if args.out else None)
    with render.RunProgress(run_id, rt.profile, total_steps=4, enabled=not args.json) as bar:
        rt.models.on_load = bar.model_loading
        summary = execute_run(rt, run_id, emit=bar.event)
    print_json(summary) if args.json else render.run_detail(summary)
    return 0 if summary["status"] == "succeeded" else 1


def runs_list(args: argparse.Namespace) -> int:
    from agent.service import summarize
    from memory import repo

    rt = _runtime(None)
    with rt.db.session() as s:
        ids = [r.id for r in repo.list_runs(s, limit=max(1, args.limit))]
    summaries = [summarize(rt, i) for i in ids]
    print_json(summaries) if args.json else render.runs_table(summaries)
    return 0


def runs_show(args: argparse.Namespace) -> int:
    from agent.service import summarize

    rt = _runtime(None)
    try:
        summary = summarize(rt, args.run_id)
    except KeyError:
        raise UsageError(f"no run with id {args.run_id!r}") from None
    print_json(summary) if args.json else render.run_detail(summary)
    return 0


def models_list(args: argparse.Namespace) -> int:
    from tools.profiles import local_path, profile_specs

    settings = _settings()
    profile = _profile_name(args.profile or settings.profile)
    rows = []
    for role, spec in profile_specs(profile).items():
        path = local_path(spec, settings.models_path)
        rows.append({"role": role, "model_id": spec.model_id, "profile": profile, "source": spec.source,
                     "kind": "real" if spec.real else "tiny-random",
                     "path": str(path) if path else None, "present": bool(path and path.exists())})
    print_json(rows) if args.json else render.models_table(rows)
    return 0


def models_prepare(args: argparse.Namespace) -> int:
    from huggingface_hub.utils import enable_progress_bars

    from tools.base import ToolError
    from tools.model_manager import ModelManager

    enable_progress_bars()  # downloads are the one place library progress bars help
    settings = _settings()
    manager = ModelManager(_profile_name(args.profile or settings.profile), settings.models_path)
    failures = 0
    for role, spec in manager.specs.items():
        try:
            manager.get(role)
            render.say(f"[green]ready[/]  {role:14} {spec.model_id}")
        except ToolError as exc:
            failures += 1
            render.say(f"[red]failed[/] {role:14} {exc}")
    return 1 if failures else 0


def _profile_name(name: str) -> str:
    from tools.profiles import resolve_profile

    try:
        return resolve_profile(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def db_upgrade(args: argparse.Namespace) -> int:
    from memory.db import current_revision, make_engine, upgrade

    settings = _settings()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    render.say(f"database {engine.url.render_as_string(hide_password=True)} is at revision {current_revision(engine)}")
    return 0


def tool_run(args: argparse.Namespace) -> int:
    import json

    from agent.toolrun import check_call, run_tool
    from tools.base import ToolError

    try:
        call_args = json.loads(args.args)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--args is not valid JSON: {exc}") from None
    if not isinstance(call_args, dict):
        raise UsageError("--args must be a JSON object")
    try:
        check_call(args.name, call_args)
    except ToolError as exc:
        raise UsageError(str(exc)) from None
    result = run_tool(_runtime(args.profile), args.name, call_args)
    print_json(result)
    return 0 if result["status"] == "succeeded" else 1


def tool_list(args: argparse.Namespace) -> int:
    from tools.registry import all_tools

    print_json([{"name": name, "description": cls.description(), "outputs": cls.outputs,
                 "input_schema": cls.input_model.model_json_schema()} for name, cls in all_tools().items()])
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from evals import harness, report

    if args.suite == "planner":
        return _eval_planner(args)
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    try:
        harness.load_suite(args.suite)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.out is not None:
        check_writable_dir(args.out.expanduser())
    rt = _runtime(args.profile)
    with render.console.status(f"eval {args.suite}") as status:
        results = harness.run_suite(rt, args.suite, args.limit, progress=lambda text: status.update(text))
    out = (args.out or rt.settings.data_dir / "evals" / args.suite).expanduser()
    json_path, html_path = report.write_reports(results, out)
    render.eval_summary(report.summarise(results), results, json_path, html_path)
    return 0


def _eval_planner(args: argparse.Namespace) -> int:
    """TaskBench-style planner scores for whatever LLM engine is configured."""
    from evals import planner

    rt = _runtime(args.profile)
    cases = planner.load_suite()[: args.limit] if args.limit else planner.load_suite()
    with render.console.status("eval planner") as status:
        results = planner.evaluate(rt.llm, cases, progress=lambda text: status.update(text))
    print(planner.format_table(results))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


# The server, key and narration commands live in their own modules (kept out of this one's imports).
def serve(args: argparse.Namespace) -> int:
    from api import server_cmd

    return server_cmd.serve(args)


def keys_create(args: argparse.Namespace) -> int:
    from api import server_cmd

    return server_cmd.keys_create(args)


def keys_list(args: argparse.Namespace) -> int:
    from api import server_cmd

    return server_cmd.keys_list(args)


def keys_revoke(args: argparse.Namespace) -> int:
    from api import server_cmd

    return server_cmd.keys_revoke(args)


def narrate(args: argparse.Namespace) -> int:
    from api import narrate_cmd

    return narrate_cmd.narrate(args)
