"""The identity gate (issue 15): a picture of a banked character is compared with the character's
reference picture as CLIP image embeddings (the cosine `identity_consistency` computes) and must be
nearer to it than to unrelated references (the run's other banked pictures and fixed decoys: flat
colours, gradients and noise) by the profile's `identity_margin`, in points (100 x cosine). The score
(`identity_reference`) is stored with the baseline, the reference, the strength and the verdict."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from agent.executor import Executor
from agent.settings import Gate
from memory import repo
from tools.media.image import open_image
from tools.metrics import cosines_to

METRIC = "identity_reference"


@dataclass
class Verdict:
    """The identity gate's verdict (the same fields as the critic's)."""

    passed: bool
    value: float
    reasons: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def decoy_pictures() -> tuple[Any, ...]:
    """Four fixed pictures no character looks like, the same on every machine."""
    from PIL import Image

    side = np.linspace(0, 255, 128, dtype=np.float32)
    ramp = np.stack([np.tile(side, (128, 1)), np.tile(side[:, None], (1, 128)), np.full((128, 128), 128.0)], -1)
    noise = np.random.default_rng(0).integers(0, 256, (128, 128, 3))
    arrays = [np.full((128, 128, 3), (30, 90, 200)), np.full((128, 128, 3), (240, 220, 60)), ramp, noise]
    return tuple(Image.fromarray(a.astype(np.uint8), "RGB") for a in arrays)


def gate_identity(cosine: float, baseline: float, gate: Gate) -> Verdict:
    above = 100 * (cosine - baseline)
    reasons = [] if above >= gate.identity_margin else [
        f"identity {100 * cosine:.1f} is {above:+.1f} points against unrelated references "
        f"(needs +{gate.identity_margin:.1f}): the character does not look like its reference picture"]
    return Verdict(passed=not reasons, value=round(above, 3), reasons=reasons)


def score_identity(executor: Executor, run_id: str, assets: list[str], gate: Gate) -> dict[str, Verdict]:
    """Gate each picture among `assets` made from a banked character's reference (the run's copy of its
    cast, info["cast"]); pictures of no banked character are left out."""
    with executor.db.session() as s:
        cast = dict((repo.get_run(s, run_id).info or {}).get("cast") or {})
    names = {entry["reference"]: name for name, entry in cast.items() if entry.get("reference")}
    todo = {a: executor.asset_view(a).params.get("args", {}) for a in assets}
    todo = {a: args for a, args in todo.items() if args.get("reference") in names}
    if not todo:
        return {}
    verdicts = {}
    with executor.models.use("clip") as clip:
        refs = dict(zip(names, clip.embed_images([open_image(executor.asset_view(r).path) for r in names]),
                        strict=True))
        decoys = clip.embed_images(list(decoy_pictures()))
        for asset_id, args in todo.items():
            picture = clip.embed_images([open_image(executor.asset_view(asset_id).path)])[0]
            reference = args["reference"]
            unrelated = np.stack([*(v for r, v in refs.items() if r != reference), *decoys])
            cosine = cosines_to(picture, refs[reference][None, :])[0]
            baseline = float(np.mean(cosines_to(picture, unrelated)))
            verdict = gate_identity(cosine, baseline, gate)
            with executor.db.session() as s:
                repo.add_score(s, asset_id=asset_id, run_id=run_id, metric=METRIC, value=cosine,
                               model_id=clip.spec.model_id,
                               details={"baseline_cosine": baseline, "unrelated": len(unrelated), "character":
                                        names[reference], "reference": reference, "strength": args.get("strength"),
                                        **asdict(verdict)})
            executor.emit({"type": "score", "asset": asset_id, "metric": METRIC, "value": round(cosine, 3),
                           "passed": verdict.passed})
            verdicts[asset_id] = verdict
    return verdicts

