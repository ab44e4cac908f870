"""`storyloom story`, `plan`, `run` and `runs list|show`."""
from __future__ import annotations

import argparse

from pydantic import ValidationError

from agent.planning.capabilities import check_capabilities, model_embed
from agent.planning.dispatch import writes_graphs
from agent.planning.intent import check_request
from agent.planning.llm_planner import plan_request
from agent.recipes import story as story_recipe
from agent.requests import FreeformRequest, StoryRequest
from agent.service.runs import create_freeform_run, create_story_run, execute_run
from agent.service.summary import summarize
from api.cli import render, review
from api.cli.common import check_writable_dir, runtime
from api.cli.render import print_json
from api.errors import UsageError
from memory import repo
from tools.base import MAX_REQUEST_SEED


def story(args: argparse.Namespace) -> int:
    try:
        request = StoryRequest(prompt=args.prompt, scenes=args.scenes, seed=args.seed, review=args.review,
                               save_cast=args.save_cast)
    except ValidationError as exc:
        raise UsageError(_request_error(exc)) from None
    if args.out is not None:
        check_writable_dir(args.out.expanduser())
    rt = runtime(args.profile)
    run_id = create_story_run(rt, request, out_dir=args.out.expanduser() if args.out else None)
    with render.RunProgress(run_id, rt.profile, total_steps=2 * request.scenes + 1, enabled=not args.json) as bar:
        rt.models.on_load = bar.model_loading
        summary = execute_run(rt, run_id, emit=bar.event)
    if summary["status"] == "awaiting_review":
        return review.paused(rt, summary, as_json=args.json)
    if args.json:
        print_json(summary)
    else:
        render.story_summary(summary)
    return 0 if summary["status"] == "succeeded" else 1


def _request_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = err["loc"][0] if err["loc"] else "value"
    if field == "scenes":
        return "--scenes must be between 1 and 24"
    if field == "seed":
        return f"--seed must be between 0 and {MAX_REQUEST_SEED}"
    return f"{field}: {err['msg'].removeprefix('Value error, ')}"


def plan(args: argparse.Namespace) -> int:
    """Plan only: whether Storyloom can do it (`supported`, `missing`), the intent, where the plan came from
    (LLM, repair, fallback, recipe) and its steps. A request it cannot do gets its reason and no plan.
    A file the request names is absent here (the command has no chat session), so it is asked for."""
    try:
        request = check_request(args.request)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    rt = runtime(args.profile)
    check = check_capabilities(request, embed=model_embed(rt.models))
    honest = {"supported": check.supported, "missing": check.missing, "reason": check.reason,
              "capability": check.to_dict()}
    if check.declined:
        print_json({**honest, "intent": None, "plan": None}) if args.json else render.plan_detail(check.reason, None)
        return 0
    result = plan_request(rt.llm, check.doable if check.supported == "partial" else request,
                          graphs=writes_graphs(rt.llm))
    made = result.plan
    if made is None and result.intent == "story":
        board = story_recipe.write_storyboard(rt.llm, args.request, 3, seed=0).storyboard
        made = story_recipe.compile_plan(board, rt.settings.story, seed=0)
    data = {**honest, **result.to_dict(), "plan": made.model_dump() if made else None}
    print_json(data) if args.json else render.plan_detail(" ".join([result.summary(), check.reason]).strip(), made)
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        request = FreeformRequest(request=args.request, seed=args.seed)
    except ValidationError as exc:
        raise UsageError(_request_error(exc)) from None
    if args.out is not None:
        check_writable_dir(args.out.expanduser())
    rt = runtime(args.profile)
    run_id = create_freeform_run(rt, request, out_dir=args.out.expanduser() if args.out else None)
    with render.RunProgress(run_id, rt.profile, total_steps=4, enabled=not args.json) as bar:
        rt.models.on_load = bar.model_loading
        summary = execute_run(rt, run_id, emit=bar.event)
    print_json(summary) if args.json else render.run_detail(summary)
    return 0 if summary["status"] == "succeeded" else 1


def runs_list(args: argparse.Namespace) -> int:
    rt = runtime(None)
    with rt.db.session() as s:
        ids = [r.id for r in repo.list_runs(s, limit=max(1, args.limit))]
    summaries = [summarize(rt, i) for i in ids]
    print_json(summaries) if args.json else render.runs_table(summaries)
    return 0


def runs_show(args: argparse.Namespace) -> int:
    rt = runtime(None)
    try:
        summary = summarize(rt, args.run_id)
    except KeyError:
        raise UsageError(f"no run with id {args.run_id!r}") from None
    print_json(summary) if args.json else render.run_detail(summary)
    return 0
