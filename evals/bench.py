"""Executor benchmark: `python -m evals.bench [--json] [--scenes N]` (`--studio`: the Studio page's,
see evals/studio_bench.py; `--scale`: workers on PostgreSQL, see evals/bench_scale.py).

Measures, in one process on the offline profile, with a throw-away data dir:
  (a) overhead_pct: a story's wall time against the raw work inside it (time inside model calls plus
      the media encoding of model-less tools), as 100 * (wall - raw) / raw;
  (b) batch_speedup: 4 scene images one by one / the same 4 in one batched call (medians of 5);
  (c) cache_speedup: that story cold / the identical story again (served by the caches);
  (d) warm_loads: model loads during those runs after a warm-up story (models stay resident);
  (e) critic_pct: the critic's share of the cold story's time (its scoring, from the run's cost);
  (f) plan_s: the slowest of PLAN_REQUESTS from request to plan (capability check with the embedder
      loaded, then the planner with this profile's LLM; the embedded one writes no graphs);
  (g) storyboard_s: a 3-scene storyboard of PROMPT by the embedded LLM, loaded, with no cache (median of 3
      seeds), and storyboard_llm_scenes: how many of those 9 scenes the LLM wrote (the rest fell back);
  (h) paused_cpu_pct: a server's CPU while 10 runs await review (evals/bench_review.py);
  (i) redo_pct: a redo of scene 2 of the cold story (a new seed: a new run, the cache serving the other
      scenes) as a % of the cold story's wall time.
Targets (issue 18 raised them): overhead <= 3 %, batch >= 1.8x, cache >= 100x, warm loads 0, critic <= 25 %,
plan <= 10 s, storyboard <= 10 s, paused CPU <= 1 %, redo <= 35 %. This is a benchmark, not a test: it prints
figures, measured in one run so the ratios share the machine's state.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from agent.planning.capabilities import check_capabilities, model_embed
from agent.planning.dispatch import writes_graphs
from agent.planning.llm_planner import plan_request
from agent.recipes.redo import SceneRedo
from agent.recipes.story import write_storyboard
from agent.requests import StoryRequest
from agent.runtime import Runtime
from agent.service.redo import start_redo
from agent.service.runs import create_story_run, execute_run
from agent.settings import Settings
from evals import bench_ray, bench_review, bench_scale, proof_report, studio_bench
from tools.registry import get_tool

PROMPT = "a bedtime story about a lighthouse keeper and a seal"
TARGETS = {"overhead_pct": "<= 3", "batch_speedup": ">= 1.8", "cache_speedup": ">= 100", "warm_loads": "== 0",
           "critic_pct": "<= 25", "plan_s": "<= 10",
           "storyboard_s": "<= 10", "paused_cpu_pct": "<= 1", "redo_pct": "<= 35"}
PLAN_REQUESTS = (
    "draw a red fox in snow, make a 4 second clip of it running, caption the clip and read the caption aloud",
    "I have an audio file example.wav that contains a speech. I'd like it transcribed into text.",
    "Translate the text 'good morning, the museum is open' into French and read it aloud",
    "an owl reading a book by candlelight",
)


def _story(rt, seed: int, scenes: int) -> tuple[float, dict]:
    run_id = create_story_run(rt, StoryRequest(prompt=PROMPT, scenes=scenes, seed=seed))
    started = time.perf_counter()
    summary = execute_run(rt, run_id)
    wall = time.perf_counter() - started
    if summary["status"] != "succeeded":
        raise SystemExit(f"bench story failed: {summary['error']}")
    return wall, summary


def _redo(rt, run_id: str) -> tuple[float, int]:
    """Seconds to redo scene 2 of `run_id` with a new seed, and the steps the cache served."""
    redo_id = start_redo(rt, run_id, SceneRedo(scene=2))
    started = time.perf_counter()
    summary = execute_run(rt, redo_id)
    wall = time.perf_counter() - started
    if summary["status"] != "succeeded":
        raise SystemExit(f"bench redo failed: {summary['error']}")
    return wall, summary["steps_reused"]


def _raw_seconds(rt, busy_before: dict, summary: dict) -> float:
    """Time inside model calls, plus the steps of tools that use no model (encoding is work too)."""
    model_time = sum(rt.models.busy_seconds.values()) - sum(busy_before.values())
    encoding = sum(s["duration_s"] or 0 for s in summary["steps"] if not get_tool(s["tool"]).model_role)
    return model_time + encoding


def _batch_speedup(rt, size: int, repeats: int = 5) -> tuple[float, float]:
    """Median seconds for 4 images one by one and in one batch, interleaved so both see the same noise."""
    import statistics

    model = rt.models.get("text_to_image")
    prompts, seeds = ["a red fox", "a gray seal", "a lighthouse", "a boat"], [11, 12, 13, 14]
    model.generate(prompts, seeds, steps=2, width=size, height=size)  # warm kernels for both shapes
    one_by_one, batched = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        for prompt, seed in zip(prompts, seeds, strict=True):
            model.generate([prompt], [seed], steps=2, width=size, height=size)
        one_by_one.append(time.perf_counter() - started)
        started = time.perf_counter()
        model.generate(prompts, seeds, steps=2, width=size, height=size)
        batched.append(time.perf_counter() - started)
    return statistics.median(one_by_one), statistics.median(batched)


def plan_seconds(rt) -> float:
    """The slowest request-to-plan time of PLAN_REQUESTS, the embedder already loaded."""
    embed = model_embed(rt.models)
    check_capabilities("a cosy cabin in the woods", embed=embed)  # loads the embedder: not counted
    worst = 0.0
    for request in PLAN_REQUESTS:
        started = time.perf_counter()
        check = check_capabilities(request, embed=embed, known_files={"example.wav": ""})
        if check.supported is not False:
            plan_request(rt.llm, check.doable, graphs=writes_graphs(rt.llm))
        worst = max(worst, time.perf_counter() - started)
    return worst


def _storyboard(rt, seeds: tuple[int, ...] = (21, 22, 23)) -> tuple[float, int]:
    """Median seconds of a 3-scene storyboard (the LLM already loaded) and the scenes the LLM wrote."""
    times, written = [], 0
    for seed in seeds:
        started = time.perf_counter()
        result = write_storyboard(rt.llm, PROMPT, 3, seed=seed, max_tokens=rt.settings.story.llm_max_new_tokens)
        times.append(time.perf_counter() - started)
        written += 0 if result.source == "fallback" else 3 - sum(n.startswith("scene ") for n in result.notes)
    return statistics.median(times), written


def measure_storyboard() -> dict:
    """(e) alone: the embedded LLM loaded once (not timed), then the storyboards."""
    base = Settings()
    with tempfile.TemporaryDirectory(prefix="storyloom-bench-") as tmp:
        rt = Runtime.open(base.model_copy(update={"data_dir": Path(tmp), "models_dir": base.models_path,
                                                  "database_url": None}), profile="offline")
        write_storyboard(rt.llm, "a cat", 1, seed=0)  # loads the model
        storyboard, written = _storyboard(rt)
    return {"profile": "offline", "storyboard_s": round(storyboard, 2), "storyboard_llm_scenes": written}


def measure(scenes: int = 4) -> dict:
    base = Settings()
    with tempfile.TemporaryDirectory(prefix="storyloom-bench-") as tmp:
        os.environ["STORYLOOM_DATA_DIR"] = tmp
        settings = base.model_copy(update={"data_dir": Path(tmp), "models_dir": base.models_path,
                                           "database_url": None})
        rt = Runtime.open(settings, profile="offline")
        _story(rt, seed=1, scenes=scenes)  # warm-up: every model loaded once
        loads_before, busy_before = sum(rt.models.loads.values()), dict(rt.models.busy_seconds)
        cold, summary = _story(rt, seed=2, scenes=scenes)
        raw = _raw_seconds(rt, busy_before, summary)
        cached, _ = _story(rt, seed=2, scenes=scenes)
        warm_loads = sum(rt.models.loads.values()) - loads_before
        redo, reused = _redo(rt, summary["id"]) if scenes >= 2 else (0.0, 0)
        one_by_one, batched = _batch_speedup(rt, settings.story.image_size)
        planning = plan_seconds(rt)
        storyboard, written = _storyboard(rt)
    return {
        "profile": "offline", "scenes": scenes, "story_wall_s": round(cold, 2), "raw_model_s": round(raw, 2),
        "overhead_pct": round(100 * (cold - raw) / raw, 1), "batch_one_by_one_s": round(one_by_one, 3),
        "batch_batched_s": round(batched, 3), "batch_speedup": round(one_by_one / batched, 2),
        "cached_rerun_s": round(cached, 2), "cache_speedup": round(cold / cached, 1), "warm_loads": warm_loads,
        "critic_pct": round(100 * summary["cost"]["critic_share"], 1),
        "plan_s": round(planning, 3),
        "storyboard_s": round(storyboard, 2), "storyboard_llm_scenes": written,
        "redo_s": round(redo, 2), "redo_steps_reused": reused, "redo_pct": round(100 * redo / cold, 1),
        **bench_review.measure(),
    }


def _prefixed(ray: dict) -> dict:
    """The Ray figures beside the workers' ones: its own keys keep a `ray_` prefix."""
    return {key if key.startswith("ray_") else f"ray_{key}": value for key, value in ray.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--scenes", type=int, default=4, choices=range(1, 25), metavar="N")
    parser.add_argument("--studio", action="store_true", help="the Studio page instead (evals/studio_bench.py)")
    parser.add_argument("--storyboard", action="store_true", help="only the storyboard figures (g)")
    parser.add_argument("--paused", action="store_true", help="only the paused-run figure (h)")
    parser.add_argument("--scale", action="store_true", help="workers on PostgreSQL: speed-up of two over one, "
                        "takeover after a SIGKILL (evals/bench_scale.py); the Ray backend against the local one "
                        "(evals/bench_ray.py)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    if args.studio:
        result, targets = studio_bench.measure(), studio_bench.TARGETS
    elif args.scale:
        result = {**bench_scale.measure_scale(), **_prefixed(bench_ray.measure(args.scenes, repeats=1))}
        targets = {**bench_scale.TARGETS, **bench_ray.GOALS}
    elif args.storyboard:
        result, targets = measure_storyboard(), TARGETS
    elif args.paused:
        result, targets = {"profile": "offline", **bench_review.measure()}, TARGETS
    else:
        result, targets = measure(args.scenes), TARGETS
    if args.json:
        print(json.dumps(result))
        return 0
    if args.scale:
        title = (f"scale-out benchmark ({result['briefs']} short briefs, PostgreSQL; Ray: "
                 f"{result['ray_scenes']}-scene story)")
        proof_report.print_figures(title, result, targets)
        return 0
    proof_report.print_figures("Studio benchmark" if args.studio else f"executor benchmark ({result['profile']} "
                               f"profile, {result.get('scenes', 3)}-scene story)", result, targets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
