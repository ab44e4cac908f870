"""`storyloom tool run|list`."""
from __future__ import annotations

import argparse
import json

from agent.service.tool_runs import check_call, run_tool
from api.cli.common import runtime
from api.cli.render import print_json
from api.errors import UsageError
from tools.base import ToolError
from tools.registry import all_tools


def tool_run(args: argparse.Namespace) -> int:
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
    result = run_tool(runtime(args.profile), args.name, call_args)
    print_json(result)
    return 0 if result["status"] == "succeeded" else 1


def tool_list(args: argparse.Namespace) -> int:
    print_json([{"name": name, "description": cls.description(), "outputs": cls.outputs,
                 "input_schema": cls.input_model.model_json_schema()} for name, cls in all_tools().items()])
    return 0
