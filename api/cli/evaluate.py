"""`storyloom eval SUITE`: run an evaluation suite and write its reports."""
from __future__ import annotations

import argparse
import json
from functools import partial

from agent.planning.capabilities import model_embed
from agent.planning.dispatch import writes_graphs
from agent.planning.llm_planner import plan_request
from api.cli import render
from api.cli.common import check_writable_dir, runtime
from api.errors import UsageError
from evals import harness, out_of_scope, planner, report


def evaluate(args: argparse.Namespace) -> int:
    if args.suite == "planner":
        return _eval_planner(args)
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    try:
        if harness.load_suite(args.suite)["kind"] != "story" and args.storyboard_only:
            raise ValueError("--storyboard-only is for the story suite")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.out is not None:
        check_writable_dir(args.out.expanduser())
    rt = runtime(args.profile)
    with render.console.status(f"eval {args.suite}") as status:
        results = harness.run_suite(rt, args.suite, args.limit, progress=lambda text: status.update(text),
                                    storyboard_only=args.storyboard_only)
    out = (args.out or rt.settings.data_dir / "evals" / args.suite).expanduser()
    json_path, html_path = report.write_reports(results, out)
    render.eval_summary(report.summarise(results), results, json_path, html_path)
    return 0


def _eval_planner(args: argparse.Namespace) -> int:
    """TaskBench-style planner scores for whatever LLM engine is configured, then the out-of-scope part:
    the capability check's honest-decline, false-decline and debris rates."""
    rt = runtime(args.profile)
    cases = planner.load_suite()[: args.limit] if args.limit else planner.load_suite()
    scope_cases = out_of_scope.load_scope_suite()
    with render.console.status("eval planner") as status:
        results = planner.evaluate(rt.llm, cases, progress=lambda text: status.update(text),
                                   planner=partial(plan_request, graphs=writes_graphs(rt.llm)))
        status.update("out of scope")
        results["out_of_scope"] = out_of_scope.evaluate_scope(scope_cases, embed=model_embed(rt.models))
    print(planner.format_table(results))
    print()
    print(out_of_scope.format_scope(results["out_of_scope"]))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0
