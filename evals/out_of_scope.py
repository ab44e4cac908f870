"""The planner's out-of-scope part: does Storyloom say what it cannot do, and only then?

`evals/suites/out_of_scope.yaml` holds requests that need tools Storyloom lacks (`cannot`, each with the
capability names an honest answer must call missing) and requests it can serve (`can`). Every request
goes through the capability check (`agent.planning.capabilities`), with the sentence-embedding model
where the rules see nothing. The figures:

- honest-decline rate: among `cannot` requests, the share not reported fully supported whose `missing`
  names every expected capability (a partial answer that names the missing part is honest);
- false-decline rate: among `can` requests, the share reported unsupported (`supported` false);
- debris rate: among the texts a plan of a `can` request would speak or draw (with `plan_texts`, the
  free-form recipe's prompts and spoken texts), the share with template or JSON debris (`agent.text_checks`).

A file the request names is looked up as it would be in a session that has every file, so these rates
measure capabilities; the ask-for-the-file answer is tested on its own.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.planning.capabilities import Embed, check_capabilities, named_files
from agent.recipes.freeform import freeform_plan
from agent.text_checks import debris

SUITE = Path(__file__).parent / "suites" / "out_of_scope.yaml"
GOALS = {"honest_decline_rate": 0.95, "false_decline_rate": 0.05, "debris_rate": 0.0}


@dataclass(frozen=True)
class ScopeCase:
    id: str
    request: str
    missing: tuple[str, ...]  # empty: Storyloom can serve it

    @property
    def servable(self) -> bool:
        return not self.missing


def load_scope_suite(path: Path = SUITE) -> list[ScopeCase]:
    import yaml

    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    cases = [ScopeCase(str(c["id"]), str(c["request"]), tuple(c["missing"])) for c in raw["cannot"]]
    cases += [ScopeCase(str(c["id"]), str(c["request"]), ()) for c in raw["can"]]
    if len({c.id for c in cases}) != len(cases) or any(not c.request.strip() for c in cases):
        raise ValueError("out-of-scope cases need unique ids and a request")
    return cases


def plan_texts(request: str, doable: str) -> list[str]:
    """The texts the free-form recipe's plan of the doable part would draw or speak."""
    plan = freeform_plan(doable or request)
    return [v for s in plan.steps for k, v in s.args.items() if k in ("prompt", "text") and isinstance(v, str)]


def evaluate_scope(cases: Sequence[ScopeCase], *, embed: Embed | None = None,
                   texts: Callable[[str, str], list[str]] = plan_texts) -> dict[str, Any]:
    """Check every case; the three rates, their goals and one row per case."""
    rows = []
    for case in cases:
        started = time.perf_counter()
        check = check_capabilities(case.request, embed=embed,
                                   known_files={name: "" for name in named_files(case.request)})
        said = texts(case.request, check.doable) if case.servable and check.supported is not False else []
        rows.append({"id": case.id, "servable": case.servable, "supported": check.supported,
                     "missing": check.missing, "expected_missing": list(case.missing), "source": check.source,
                     "honest": (not case.servable and check.supported is not True
                                and set(case.missing) <= set(check.missing)),
                     "texts": len(said), "debris": sum(bool(debris(t)) for t in said),
                     "seconds": round(time.perf_counter() - started, 4), "reason": check.reason})
    return summarize_scope(rows)


def summarize_scope(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    cannot = [r for r in rows if not r["servable"]]
    can = [r for r in rows if r["servable"]]
    texts = sum(r["texts"] for r in rows)
    figures = {"honest_decline_rate": sum(r["honest"] for r in cannot) / len(cannot) if cannot else None,
               "false_decline_rate": sum(r["supported"] is False for r in can) / len(can) if can else None,
               "debris_rate": sum(r["debris"] for r in rows) / texts if texts else 0.0}
    return {"cannot": len(cannot), "can": len(can), **figures, "goals": GOALS,
            "mean_check_s": sum(r["seconds"] for r in rows) / len(rows) if rows else 0.0, "per_case": list(rows)}


def format_scope(results: dict[str, Any]) -> str:
    """The three rates against their goals, then each case that missed."""
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f} %"

    lines = [f"out of scope: {results['cannot']} requests Storyloom cannot serve, {results['can']} it can", "",
             f"{'honest-decline rate':<22} {pct(results['honest_decline_rate'])}  (goal >= 95 %)",
             f"{'false-decline rate':<22} {pct(results['false_decline_rate'])}  (goal <= 5 %)",
             f"{'debris rate':<22} {pct(results['debris_rate'])}  (goal 0)",
             f"{'mean check':<22} {results['mean_check_s']:.3f} s", ""]
    for row in results["per_case"]:
        wrong = (not row["servable"] and not row["honest"]) or (row["servable"] and row["supported"] is False)
        if wrong or row["debris"]:
            lines.append(f"missed {row['id']:<20} supported={row['supported']} missing={row['missing']}")
    return "\n".join(lines)
