"""The evaluation harness: run a YAML suite end to end and collect every score the critic stored.

`storyloom eval SUITE [--profile P] [--limit N] [--out DIR]` writes report.json and report.html
(see evals/report.py). Suites live in evals/suites/: `story` runs whole stories through the same
service as the CLI (plan, tools, critic loop, deliver); `narration` speaks each script and hears it
back, and its `visual_context` cases measure what on-screen text buys the recogniser
(evals/visual_context.py). Numbers are only as good as the profile's models: the report says which profile made them.
Every story case also reports its storyboard's adherence to the request and whether its title is junk;
`--storyboard-only` writes just the storyboards (no pictures or speech), which is quick enough for the
whole suite.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from agent.critic import gate_narration
from agent.recipes.story import write_storyboard
from agent.recipes.story_checks import title_problem
from agent.recipes.story_subjects import find_subjects
from agent.requests import StoryRequest
from agent.service.runs import create_story_run, execute_run
from evals import visual_context
from tools.base import ToolContext
from tools.registry import get_tool

SUITES = Path(__file__).parent / "suites"
# Published figures to read our numbers against (see the report's notes).
REFERENCES = {
    "clip_score": "Stable Diffusion 1.5: CLIPScore about 36 (CLIP ViT-B/16, x100); "
                  "real CLIP gives a noise image about 24",
    "clip_gate": "points above unrelated prompts; the gate's margin is per profile",
    "narration_wer": "strong TTS round trip: 1-2.5 % WER",
}


def suite_names() -> list[str]:
    # planner and out_of_scope are run by `storyloom eval planner` (evals/planner.py), not by the harness
    return sorted(p.stem for p in SUITES.glob("*.yaml") if p.stem not in ("planner", "out_of_scope"))


def load_suite(name: str) -> dict[str, Any]:
    """The suite's YAML; ValueError with a one-line reason when it is missing or malformed."""
    path = SUITES / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"no suite {name!r}; suites: {', '.join(suite_names())}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list) or not data["cases"]:
        raise ValueError(f"suite {name!r} has no cases")
    return data


def run_suite(rt, name: str, limit: int | None = None, progress=lambda text: None, *,
              storyboard_only: bool = False) -> dict[str, Any]:
    """Run the suite's cases (the first `limit`) and return the raw results for the report."""
    suite = load_suite(name)
    cases = suite["cases"][:limit] if limit else suite["cases"]
    if storyboard_only and suite["kind"] != "story":
        raise ValueError("--storyboard-only is for the story suite")
    runner = storyboard_case if storyboard_only else {"story": _story_case, "narration": _narration_case}[suite["kind"]]
    results = []
    for i, case in enumerate(cases, start=1):
        progress(f"case {i}/{len(cases)}: {case['id']}")
        results.append(runner(rt, case))
    gate = getattr(rt.settings.critic.gates, rt.profile)
    out = {"suite": name, "kind": suite["kind"], "profile": rt.profile, "gate": gate.model_dump(),
           "max_rounds": rt.settings.critic.max_rounds, "cases": results, "references": REFERENCES}
    if suite.get("visual_context") and not storyboard_only:
        seen = suite["visual_context"][:limit] if limit else suite["visual_context"]
        out["visual_context"] = visual_context.evaluate(rt.models, seen, progress)
    return out


def _story_case(rt, case: dict[str, Any]) -> dict[str, Any]:
    stages: dict[str, float] = {}
    clock = {"stage": "plan", "since": time.perf_counter()}

    def timed(event: dict[str, Any]) -> None:
        stage = {"step": "execute", "score": "critique"}.get(event["type"], event.get("stage", clock["stage"]))
        now = time.perf_counter()
        stages[clock["stage"]] = stages.get(clock["stage"], 0.0) + now - clock["since"]
        clock.update(stage=stage, since=now)

    run_id = create_story_run(rt, StoryRequest(prompt=case["prompt"], scenes=case.get("scenes", 3),
                                               seed=case.get("seed", 0)))
    started = time.perf_counter()
    summary = execute_run(rt, run_id, emit=timed)
    timed({"type": "stage", "stage": "deliver"})
    return {"id": case["id"], "run_id": run_id, "status": summary["status"], "error": summary["error"],
            "seconds": round(time.perf_counter() - started, 2), "stages": {k: round(v, 2) for k, v in stages.items()},
            **_story_metrics(summary), **grounding(case["prompt"], summary["title"] or "", summary["adherence"])}


def storyboard_case(rt, case: dict[str, Any]) -> dict[str, Any]:
    """The case's storyboard only, written by the profile's LLM: adherence, title and where scenes came from."""
    started = time.perf_counter()
    result = write_storyboard(rt.llm, case["prompt"], case.get("scenes", 3), seed=case.get("seed", 0),
                              max_tokens=rt.settings.story.llm_max_new_tokens)
    seconds = round(time.perf_counter() - started, 2)
    fallback = sum(note.startswith("scene ") for note in result.notes)
    if result.source == "fallback":
        fallback = len(result.storyboard.scenes)
    return {"id": case["id"], "run_id": None, "status": "succeeded", "error": None, "seconds": seconds,
            "stages": {"storyboard": seconds}, "metrics": {}, "rounds": [0], "passed": True,
            "source": result.source, "fallback_scenes": fallback, "scenes": len(result.storyboard.scenes),
            "notes": result.notes, **grounding(case["prompt"], result.storyboard.title, result.adherence)}


def grounding(prompt: str, title: str, kept: dict[str, Any] | None) -> dict[str, Any]:
    """A story case's adherence to its request (see agent/recipes/story_checks.py) and its title's junk check."""
    problem = title_problem(title, find_subjects(prompt))
    return {"adherence": (kept or {}).get("adherence"), "lost": (kept or {}).get("lost", []), "title": title,
            "junk_title": problem or None}


def _story_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """Scores of the winning assets, rounds each revisable step took, and whether every gate passed."""
    winners = [a for a in summary["assets"] if a["selected"] and a["scores"]]
    metrics: dict[str, list[float]] = {}
    for asset in winners:
        for metric, value in asset["scores"].items():
            metrics.setdefault(metric, []).append(value)
    judged = [s for s in summary["steps"] if s["passed"] is not None]
    return {"metrics": metrics, "rounds": [s["rounds"] for s in judged],
            "passed": summary["status"] == "succeeded" and all(s["passed"] for s in judged)}


def _narration_case(rt, case: dict[str, Any]) -> dict[str, Any]:
    tool = get_tool("narration_wer")
    ctx = ToolContext(models=rt.models, resolve=lambda _id: (_ for _ in ()).throw(KeyError(_id)))
    started = time.perf_counter()
    values = tool.run(tool.parse({"text": case["text"]}), ctx).values
    gate = getattr(rt.settings.critic.gates, rt.profile)
    verdict = gate_narration(values["narration_wer"], gate)
    return {"id": case["id"], "status": "succeeded", "error": None, "seconds": round(time.perf_counter() - started, 2),
            "stages": {"narration": round(time.perf_counter() - started, 2)},
            "metrics": {"narration_wer": [values["narration_wer"]]}, "rounds": [0], "passed": verdict.passed,
            "hypothesis": values["hypothesis"], "words": values["hits"] + values["substitutions"] + values["deletions"],
            "word_errors": values["substitutions"] + values["deletions"] + values["insertions"]}
