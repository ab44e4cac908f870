"""The critic: score every candidate against its intent, gate it, pick the best, ask for revisions.

Image gate (relative, because absolute CLIP numbers differ per model: real CLIP scores a noise image
about 24): each image's CLIP cosine with its own prompt must beat its mean cosine with unrelated
prompts (the run's other scene prompts, shuffled onto it, plus fixed decoys) by the profile's margin,
and reach the profile's floor. Scores are reported in the torchmetrics convention, 100 * max(cos, 0);
the gate works on raw cosines so negative ones still rank. Every score, verdict and reason is stored.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from agent.executor import Executor
from agent.identity import score_identity
from agent.plan_schema import PlanStep, dependencies
from agent.recipes.redo import kept_steps
from agent.settings import Gate
from memory import repo
from tools.media.image import open_image
from tools.metrics import clip_score_from_cosine
from tools.registry import get_tool

DECOYS = (
    "a bowl of soup on a kitchen table", "a busy city street at night with cars", "a spreadsheet on a laptop screen",
    "a close-up of a printed circuit board", "an empty office with grey chairs",
)
# Tools whose results are judged and revised, with the output slot judged.
REVISABLE = {"generate_image": "image", "speak": "audio"}


@dataclass
class Verdict:
    passed: bool
    value: float  # what candidates are ranked by (points above the baseline)
    reasons: list[str] = field(default_factory=list)


def gate_image(cosine: float, baseline: float, gate: Gate) -> Verdict:
    """Pass when the prompt beats unrelated prompts by the margin and the floor is reached."""
    score, above = 100 * cosine, 100 * (cosine - baseline)
    reasons = []
    if above < gate.clip_margin:
        reasons.append(f"CLIP {score:.1f} is {above:+.1f} points against unrelated prompts "
                       f"(needs +{gate.clip_margin:.1f}): the picture does not show its prompt")
    if score < gate.clip_floor:
        reasons.append(f"CLIP {score:.1f} is under the floor {gate.clip_floor:.1f}")
    return Verdict(passed=not reasons, value=round(above, 3), reasons=reasons)


def score_images(executor: Executor, run_id: str, images: dict[str, str], prompts: list[str],
                 gate: Gate) -> dict[str, Verdict]:
    """Gate each image (asset id -> its prompt) against its prompt and the shuffled baseline."""
    verdicts: dict[str, Verdict] = {}
    if not images:
        return verdicts
    with executor.models.use("clip") as clip:
        for asset_id, prompt in images.items():
            image = clip.embed_images([open_image(executor.asset_view(asset_id).path)])[0]
            unrelated = [p for p in prompts if p != prompt] + list(DECOYS)
            cosines = clip.embed_texts([prompt, *unrelated]) @ image
            verdict = gate_image(float(cosines[0]), float(cosines[1:].mean()), gate)
            _store(executor, run_id, asset_id, clip.spec.model_id, prompt, cosines, verdict)
            verdicts[asset_id] = verdict
    return verdicts


def gate_narration(wer: float, gate: Gate) -> Verdict:
    reasons = [] if wer <= gate.max_wer else [
        f"the narration comes back from speech recognition with word error rate {wer:.0%} (allowed {gate.max_wer:.0%})"]
    return Verdict(passed=not reasons, value=round(-100 * wer, 3), reasons=reasons)


def score_narration(executor: Executor, run_id: str, clips: dict[str, str], gate: Gate) -> dict[str, Verdict]:
    """Transcribe each narration clip (asset id -> its script) and gate its word error rate."""
    tool, verdicts = get_tool("narration_wer"), {}
    for asset_id, script in clips.items():
        values = scored_values(executor, tool, asset_id, {"audio": asset_id, "text": script}, "narration_wer", script)
        verdict = gate_narration(values["narration_wer"], gate)
        with executor.db.session() as s:
            repo.add_score(s, asset_id=asset_id, run_id=run_id, metric="narration_wer",
                           model_id=tool_model(executor, tool.model_role), value=values["narration_wer"],
                           details={**values, **asdict(verdict), "text": script})
        result_value = values["narration_wer"]
        executor.emit({"type": "score", "asset": asset_id, "metric": "narration_wer",
                       "value": round(result_value, 3), "passed": verdict.passed})
        verdicts[asset_id] = verdict
    return verdicts


def _store(executor: Executor, run_id: str, asset_id: str, model_id: str, prompt: str, cosines, verdict) -> None:
    details = {"cosine": float(cosines[0]), "baseline_cosine": float(cosines[1:].mean()),
               "baseline_prompts": len(cosines) - 1, "text": prompt[:500], "convention": "100 * max(cosine, 0)"}
    with executor.db.session() as s:
        repo.add_score(s, asset_id=asset_id, run_id=run_id, metric="clip_score", model_id=model_id,
                       value=clip_score_from_cosine(float(cosines[0])), details=details)
        repo.add_score(s, asset_id=asset_id, run_id=run_id, metric="clip_gate", model_id=model_id,
                       value=verdict.value, details={**asdict(verdict), "baseline": "shuffled prompts + decoys"})
    executor.emit({"type": "score", "asset": asset_id, "metric": "clip_score",
                   "value": round(clip_score_from_cosine(float(cosines[0])), 2), "passed": verdict.passed})


def critique(executor: Executor, run_id: str, state: dict[str, Any], gate: Gate) -> dict[str, Any]:
    """Score unscored candidates, pick each revisable step's best, and say which still fail."""
    started = time.perf_counter()
    plan = [s for s in state["plan"]["steps"] if s["tool"] in REVISABLE]
    candidates = {k: list(v) for k, v in state.get("candidates", {}).items()}  # step -> asset ids, original first
    verdicts = dict(state.get("verdicts", {}))  # asset id -> Verdict as dict
    for step in plan:
        candidates.setdefault(step["id"], [state["outputs"][step["id"]][REVISABLE[step["tool"]]]])
    todo = {tool: {a: _script(executor, a, s["intent"]) for s in plan if s["tool"] == tool
                   for a in candidates[s["id"]] if a not in verdicts} for tool in REVISABLE}
    prompts = [s["intent"] for s in plan if s["tool"] == "generate_image"]
    judged = {**score_images(executor, run_id, todo["generate_image"], prompts, gate),
              **(score_narration(executor, run_id, todo["speak"], gate) if todo["speak"] else {})}
    identity = score_identity(executor, run_id, list(todo["generate_image"]), gate)
    judged.update({a: _both(judged[a], v) for a, v in identity.items()})
    verdicts.update({a: asdict(v) for a, v in judged.items()})
    winners = {step: max(ids, key=lambda a: verdicts[a]["value"]) for step, ids in candidates.items()}
    kept = _kept(executor, run_id)  # locked scenes, and a redo's other scenes: judged, never revised
    failing = [step for step, a in winners.items() if not verdicts[a]["passed"] and step not in kept]
    _record_selection(executor, run_id, candidates, winners, verdicts)
    add_critic_time(executor, run_id, started)
    return {"candidates": candidates, "verdicts": verdicts, "winners": winners, "failing": failing}


def _kept(executor: Executor, run_id: str) -> set[str]:
    """Read when judging, so a lock set while the run waited for review counts."""
    with executor.db.session() as s:
        return kept_steps(repo.get_run(s, run_id).info or {})


def _both(clip: Verdict, identity) -> Verdict:
    """A banked character's picture passes both gates; candidates rank by the sum of their margins."""
    return Verdict(passed=clip.passed and identity.passed, value=round(clip.value + identity.value, 3),
                   reasons=[*clip.reasons, *identity.reasons])


def _script(executor: Executor, asset_id: str, intent: str) -> str:
    """What the asset was asked to say or show: its resolved text argument (a `$value` such as a
    caption is only known at run time), else the step's intent."""
    args = executor.asset_view(asset_id).params.get("args", {})
    return args.get("text") or args.get("prompt") or intent


def _record_selection(executor: Executor, run_id: str, candidates, winners, verdicts) -> None:
    """The original step row keeps the story of its revisions: candidates, verdicts, the winner."""
    with executor.db.session() as s:
        for step_id, ids in candidates.items():
            row = repo.get_step(s, run_id, step_id)
            repo.update_step(s, row.id, values={**(row.values or {}), "candidates": ids, "selected": winners[step_id],
                                                "rounds": len(ids) - 1,
                                                "verdicts": {a: verdicts[a] for a in ids}})


def stale_steps(plan: list[dict], changed: set[str]) -> set[str]:
    """Steps that consumed (directly or not) an output of a changed step: they must be rebuilt."""
    stale: set[str] = set()
    for step in plan:  # plans are ordered: every dependency comes first
        if dependencies(PlanStep.model_validate(step)) & (changed | stale):
            stale.add(step["id"])
    return stale


def rebuild_dependents(executor: Executor, state: dict[str, Any], winners: dict[str, str]) -> dict[str, Any]:
    """Point outputs at the winners; steps that used a replaced asset are reset to run again."""
    outputs = {k: dict(v) for k, v in state["outputs"].items()}
    slot = {s["id"]: REVISABLE.get(s["tool"]) for s in state["plan"]["steps"]}
    changed = {step for step, asset in winners.items() if outputs.get(step, {}).get(slot[step]) != asset}
    for step in changed:
        outputs[step] = {slot[step]: winners[step]}
    stale = stale_steps(state["plan"]["steps"], changed)
    with executor.db.session() as s:
        for key in stale:
            outputs.pop(key, None)
            row = repo.get_step(s, state["run_id"], key)
            if row is not None:
                repo.update_step(s, row.id, status="pending")
    return {"outputs": outputs}


def final_scores(executor: Executor, run_id: str, state: dict[str, Any]) -> None:
    """Scores of the winners against their siblings and intents, recorded but not gated: character
    consistency across the scene pictures (each against the first) and caption similarity."""
    started = time.perf_counter()
    steps = [s for s in state["plan"]["steps"] if s["tool"] == "generate_image"]
    images = [state["outputs"][s["id"]]["image"] for s in steps if s["id"] in state.get("outputs", {})]
    if len(images) >= 2:
        tool = get_tool("identity_consistency")
        result = executor.call(tool, tool.parse({"images": images}))
        per_scene = {c["scene"]: c["cosine"] for g in result.values["groups"] for c in g["cosines"]}
        _record_all(executor, run_id, "identity_consistency", result.model_id,
                    {a: (per_scene.get(i, 1.0), {"weakest_scene": result.values["weakest_scene"],
                                                  "story_min": result.values["identity_consistency"]})
                     for i, a in enumerate(images)})
    tool = get_tool("caption_score")
    scored = {}
    for step, asset in zip(steps, images, strict=False):
        text = _script(executor, asset, step["intent"])[:2000]
        values = scored_values(executor, tool, asset, {"image": asset, "text": text}, "caption_score", text)
        scored[asset] = (values["caption_score"], {"caption": values.get("caption"), "text": text})
    _record_all(executor, run_id, "caption_score", tool_model(executor, "captioner"), scored)
    add_critic_time(executor, run_id, started)


def add_critic_time(executor: Executor, run_id: str, started: float) -> None:
    """Add the seconds since `started` to the run's scoring time (`info["critic_s"]`, read by its cost)."""
    with executor.db.session() as s:
        info = dict(repo.get_run(s, run_id).info or {})
        info["critic_s"] = round(info.get("critic_s", 0.0) + time.perf_counter() - started, 3)
        repo.update_run(s, run_id, info=info)


def tool_model(executor: Executor, role: str) -> str:
    return executor.models.spec(role).model_id


def _record_all(executor: Executor, run_id: str, metric: str, model_id: str | None,
                values: dict[str, tuple[float, dict]]) -> None:
    with executor.db.session() as s:
        for asset_id, (value, details) in values.items():
            repo.add_score(s, asset_id=asset_id, run_id=run_id, metric=metric, value=float(value),
                           model_id=model_id, details=details)


def scored_values(executor: Executor, tool, asset_id: str, args: dict[str, Any], metric: str,
                  text: str) -> dict[str, Any]:
    """Run a scoring tool, unless the same bytes were already scored for the same text by the same
    model: scores are content-addressed like every other tool call, so a re-run costs nothing."""
    model_id = tool_model(executor, tool.model_role)
    if executor.use_cache:
        with executor.db.session() as s:
            sha = repo.get_asset(s, asset_id).sha256
            hit = repo.find_score(s, sha256=sha, metric=metric, model_id=model_id, text=text,
                                  run_id=executor.run_id)
            if hit is not None:
                return {**hit.details, metric: hit.value}
    return executor.call(tool, tool.parse(args)).values
