"""Ray backend benchmark: `python -m evals.bench_ray [--json] [--scenes N] [--repeats R]` (also part of
`python -m evals.bench --scale`).

Measures, on the offline profile with throw-away data dirs, the same story (PROMPT, N scenes, scoring
without revision rounds) on the local backend and on the Ray backend (a private local Ray, or the
cluster at STORYLOOM_RAY__ADDRESS): one warm-up story each (every model loaded, in this process or in
its role's actor), then R stories each with fresh seeds, alternating local and Ray so both meet the same
machine state. ray_overhead_pct = 100 * (median Ray wall - median local wall) / median local wall: what
shipping calls to actors and their bytes back costs. Goal: <= 15 %. A benchmark, not a test: it prints
figures (with the load average: on a shared machine they move with the neighbours).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from agent.ray_backend import RayBackend, import_ray
from agent.requests import StoryRequest
from agent.runtime import Runtime
from agent.service.runs import create_story_run, execute_run
from agent.settings import Settings
from evals import proof_report

PROMPT = "a bedtime story about a lighthouse keeper and a seal"
GOALS = {"ray_overhead_pct": "<= 15"}


def _runtimes(base: Settings, tmp: Path) -> tuple[Runtime, Runtime]:
    """A local and a Ray runtime, each on its own data dir (no shared cache), sharing this process's
    models (the planner's LLM and the critic's CLIP stay here on both backends)."""
    settings = {backend: base.model_copy(update={
        "data_dir": tmp / backend, "models_dir": base.models_path, "database_url": None,
        "executor": base.executor.model_copy(update={"backend": backend}),
        "critic": base.critic.model_copy(update={"max_rounds": 0})}) for backend in ("local", "ray")}
    local = Runtime.open(settings["local"], profile="offline")
    remote = Runtime.open(settings["ray"], profile="offline")
    remote.models = local.models
    return local, remote


def _story_s(rt: Runtime, seed: int, scenes: int) -> float:
    run_id = create_story_run(rt, StoryRequest(prompt=PROMPT, scenes=scenes, seed=seed))
    started = time.perf_counter()
    summary = execute_run(rt, run_id)
    if summary["status"] != "succeeded":
        raise SystemExit(f"bench story ({rt.settings.executor.backend}) failed: {summary['error']}")
    return time.perf_counter() - started


def measure(scenes: int = 4, repeats: int = 3) -> dict:
    """The figures as one dict (`ray_overhead_pct` is what `evals.bench --scale` reports)."""
    base = Settings()
    with tempfile.TemporaryDirectory(prefix="storyloom-bench-ray-") as tmp:
        local, remote = _runtimes(base, Path(tmp))
        assert isinstance(remote.backend, RayBackend)
        try:
            for rt in (local, remote):
                _story_s(rt, seed=1, scenes=scenes)  # warm-up: models loaded, actors started
            walls: dict[str, list[float]] = {"local": [], "ray": []}
            for i in range(repeats):
                seed = 100 + 10 * i  # fresh seeds: no call is served by the cache
                walls["local"].append(_story_s(local, seed, scenes))
                walls["ray"].append(_story_s(remote, seed, scenes))
            actors = len(remote.backend.roles())
        finally:
            remote.backend.close()
    local_s, ray_s = statistics.median(walls["local"]), statistics.median(walls["ray"])
    return {"profile": "offline", "scenes": scenes, "repeats": repeats, "cpus": os.cpu_count(),
            "load_avg_1m": round(os.getloadavg()[0], 2), "ray_version": import_ray().__version__,
            "ray_actors": actors, "local_story_s": round(local_s, 2), "ray_story_s": round(ray_s, 2),
            "ray_overhead_pct": round(100 * (ray_s - local_s) / local_s, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_ray", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--scenes", type=int, default=4, choices=range(1, 25), metavar="N")
    parser.add_argument("--repeats", type=int, default=3, choices=range(1, 21), metavar="R")
    args = parser.parse_args(argv)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    result = measure(args.scenes, args.repeats)
    if args.json:
        print(json.dumps(result))
        return 0
    proof_report.print_figures(f"Ray backend benchmark ({result['profile']} profile, {result['scenes']}-scene story, "
                               f"median of {result['repeats']})", result, GOALS, "goal")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
