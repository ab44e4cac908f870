"""The critic: scores every scene image against its intent and stores the scores.

CLIP score follows the torchmetrics convention, 100 * max(cosine(image, text), 0); the raw cosine
is kept in the score's details. Gating and revision build on these stored numbers.
"""
from __future__ import annotations

from agent.executor import Executor
from memory import repo
from tools.base import get_tool


def critique_run(executor: Executor, run_id: str) -> dict[str, dict[str, float]]:
    """CLIP-score each image asset of the run against its intent; returns asset id -> metric -> value."""
    with executor.db.session() as s:
        images = [(a.id, a.intent) for a in repo.list_assets(s, run_id=run_id) if a.kind == "image"]
    tool = get_tool("clip_score")
    scores: dict[str, dict[str, float]] = {}
    for asset_id, intent in images:
        result = tool.run(tool.parse({"image": asset_id, "text": intent[:2000] or "an image"}), executor.ctx)
        value = result.values["clip_score"]
        with executor.db.session() as s:
            repo.add_score(s, asset_id=asset_id, run_id=run_id, metric="clip_score", value=value,
                           model_id=result.model_id,
                           details={"cosine": result.values["cosine"], "text": intent[:500],
                                    "convention": "100 * max(cosine, 0)"})
        scores[asset_id] = {"clip_score": value}
        executor.emit({"type": "score", "asset": asset_id, "metric": "clip_score", "value": round(value, 3)})
    return scores
