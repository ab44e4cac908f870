"""Planner evaluation, TaskBench style: `python -m evals.planner [--json] [--limit N] [--no-llm]`.

Each labelled case names the tools a good plan calls and the dependencies between them. For each
case the planner plans the request as free-form (intent detection is not what is measured here)
and the plan it returns, whoever wrote it, is scored:

- node F1: the predicted tool names against the expected ones, as multisets;
- edge F1: (tool, tool) pairs along dependencies (a `$ref`, a `$value` or an `after`), as multisets;
- argument validity: among the plans the LLM wrote (each answer that parsed as a plan, first tries
  and repairs alike), the share whose every step's arguments validate against the tool's input model;
- repair rate and fallback rate: the share of cases that needed a repair, or ended in the recipe;
- mean latency: seconds per case, LLM calls included.

F1 scores are computed per case and averaged over cases (macro). A case where both the expected and
the predicted sets are empty (no edges in a one-tool request) scores 1.0: there was nothing to miss.
Run with no LLM (`--no-llm`), the numbers are the deterministic recipe's: the floor a model must beat.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from agent.plan_schema import Plan, dependencies, placeholder_args
from agent.planning.dispatch import writes_graphs
from agent.planning.llm_planner import plan_request
from agent.runtime import Runtime
from agent.settings import Settings
from tools.base import ToolError
from tools.registry import get_tool

SUITE = Path(__file__).parent / "suites" / "planner.yaml"


@dataclass(frozen=True)
class Case:
    """One labelled request: the expected tools in order and edges as (from, to) indexes into them."""

    id: str
    request: str
    tools: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]

    def edge_names(self) -> list[tuple[str, str]]:
        return [(self.tools[a], self.tools[b]) for a, b in self.edges]


def load_suite(path: Path = SUITE) -> list[Case]:
    """The cases of a YAML suite; ValueError naming the case when one is malformed."""
    import yaml

    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    cases = []
    for item in raw["cases"]:
        tools = tuple(item["tools"])
        edges = tuple((int(a), int(b)) for a, b in item.get("edges") or [])
        if not tools or any(not (0 <= a < b < len(tools)) for a, b in edges):
            raise ValueError(f"case {item.get('id')!r}: needs tools, and edges that point forward within them")
        cases.append(Case(id=str(item["id"]), request=str(item["request"]), tools=tools, edges=edges))
    if len({c.id for c in cases}) != len(cases):
        raise ValueError("case ids must be unique")
    return cases


def f1(predicted: Iterable[Any], expected: Iterable[Any]) -> float:
    """F1 of two multisets (1.0 when both are empty)."""
    pred, gold = Counter(predicted), Counter(expected)
    if not pred and not gold:
        return 1.0
    hits = sum((pred & gold).values())
    if not hits:
        return 0.0
    precision, recall = hits / sum(pred.values()), hits / sum(gold.values())
    return 2 * precision * recall / (precision + recall)


def plan_edges(plan: Plan | None) -> list[tuple[str, str]]:
    """(tool that feeds, tool fed) for every dependency in the plan."""
    if plan is None:
        return []
    tools = {s.id: s.tool for s in plan.steps}
    return [(tools[d], s.tool) for s in plan.steps for d in sorted(dependencies(s)) if d in tools]


def args_valid(plan: Plan) -> bool:
    """Whether every step's arguments validate against its tool (references replaced by dummies)."""
    try:
        for step in plan.steps:
            get_tool(step.tool).parse(placeholder_args(step.args))
    except ToolError:
        return False
    return True


def score_case(case: Case, result: Any, seconds: float) -> dict[str, Any]:
    """One case's scores from a PlanResult (anything with plan, source, repairs and drafts)."""
    plan = result.plan
    predicted = [s.tool for s in plan.steps] if plan else []
    drafts = [d for d in result.drafts if d is not None]
    return {"id": case.id, "source": result.source, "repairs": result.repairs, "seconds": round(seconds, 3),
            "tools": predicted, "node_f1": f1(predicted, case.tools),
            "edge_f1": f1(plan_edges(plan), case.edge_names()),
            "drafts": len(drafts), "valid_drafts": sum(args_valid(d) for d in drafts)}


def summarize(rows: Sequence[dict[str, Any]], engine: str) -> dict[str, Any]:
    """The suite's figures from per-case rows (see the module docstring)."""
    n = len(rows)
    drafts = sum(r["drafts"] for r in rows)

    def mean(key: str) -> float:
        return sum(r[key] for r in rows) / n if n else 0.0

    return {"engine": engine, "cases": n, "node_f1": mean("node_f1"), "edge_f1": mean("edge_f1"),
            "arg_validity": sum(r["valid_drafts"] for r in rows) / drafts if drafts else None,
            "repair_rate": sum(r["repairs"] > 0 for r in rows) / n if n else 0.0,
            "fallback_rate": sum(r["source"] == "fallback" for r in rows) / n if n else 0.0,
            "mean_latency_s": mean("seconds"), "per_case": list(rows)}


def evaluate(llm: Any, cases: Sequence[Case], *, planner: Callable[..., Any] | None = None,
             progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Plan every case with `llm` (None: the recipe alone) and score the plans."""
    planner = planner or plan_request
    rows = []
    for index, case in enumerate(cases):
        progress(f"[{index + 1}/{len(cases)}] {case.id}")
        started = time.perf_counter()
        result = planner(llm, case.request, kind="freeform", seed=index)
        rows.append(score_case(case, result, time.perf_counter() - started))
    return summarize(rows, getattr(llm, "name", None) or "recipe only (no LLM)")


def format_table(results: dict[str, Any]) -> str:
    """The summary as a small text table, then one line per case."""
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f} %"

    lines = [f"planner evaluation: {results['cases']} cases, engine {results['engine']}", "",
             f"{'metric':<20} value", f"{'-' * 20} {'-' * 9}",
             f"{'node F1':<20} {results['node_f1']:.3f}", f"{'edge F1':<20} {results['edge_f1']:.3f}",
             f"{'argument validity':<20} {pct(results['arg_validity'])}",
             f"{'repair rate':<20} {pct(results['repair_rate'])}",
             f"{'fallback rate':<20} {pct(results['fallback_rate'])}",
             f"{'mean latency':<20} {results['mean_latency_s']:.2f} s", ""]
    for row in results.get("per_case", []):
        lines.append(f"{row['id']:<22} {row['source']:<8} node {row['node_f1']:.2f} edge {row['edge_f1']:.2f}  "
                     f"{' > '.join(row['tools'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.planner", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N cases")
    parser.add_argument("--no-llm", action="store_true", help="score the deterministic recipe alone")
    args = parser.parse_args(argv)
    cases = load_suite()[: args.limit]
    llm = None
    if not args.no_llm:
        llm = Runtime.open(Settings()).llm
    results = evaluate(llm, cases, progress=lambda text: None if args.json else print(text, flush=True),
                       planner=partial(plan_request, graphs=writes_graphs(llm)) if llm is not None else None)
    print(json.dumps(results, indent=1) if args.json else format_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
