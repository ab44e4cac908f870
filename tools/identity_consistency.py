"""identity_consistency: do recurring characters keep their look across scenes? Compared as CLIP
image embeddings (the model is in `tools.engines.clip`)."""
from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field, model_validator

from tools.base import Tool, ToolContext, ToolInput, ToolResult, asset_ref
from tools.media.image import open_image
from tools.metrics import cosines_to, mean
from tools.registry import register

SceneImage = Annotated[str, asset_ref("image", "A scene's image (an image asset id).")]


class IdentityInput(ToolInput):
    images: list[SceneImage] = Field(min_length=2, max_length=24, description="The scenes' images, in story order.")
    groups: list[list[int]] | None = Field(
        default=None, min_length=1, max_length=24,
        description="One list per recurring character: the 0-based indices into `images` of the scenes it appears "
                    "in (at least two). Default: every scene, one group.",
    )

    @model_validator(mode="after")
    def _groups_index_images(self) -> IdentityInput:
        for number, group in enumerate(self.groups or []):
            outside = [i for i in group if not 0 <= i < len(self.images)]
            if outside:
                raise ValueError(f"`groups.{number}` names scenes {outside}, but `images` holds scenes "
                                 f"0..{len(self.images) - 1}")
            if len(set(group)) != len(group):
                raise ValueError(f"`groups.{number}` names a scene twice: {group}")
            if len(group) < 2:
                raise ValueError(f"`groups.{number}` has one scene; a recurring character appears in at least two")
        return self


@register
class IdentityConsistency(Tool):
    """Check recurring characters keep their look across scenes: each scene's CLIP image embedding is
    compared (cosine) with the character's first appearance; the score is the weakest scene's cosine.

    The whole picture is embedded, so a new background also lowers the cosine; compare scores of
    one story's scenes with each other rather than with a fixed number.
    """

    name = "identity_consistency"
    input_model = IdentityInput
    outputs = {}
    model_role = "clip"

    def run(self, args: IdentityInput, ctx: ToolContext) -> ToolResult:
        images = [open_image(ctx.asset(asset_id, "image").path) for asset_id in args.images]
        with ctx.models.use(self.model_role) as clip:
            embedded = clip.embed_images(images)
        groups = [_compare_group(embedded, sorted(g)) for g in (args.groups or [list(range(len(images)))])]
        weakest = min(groups, key=lambda g: g["min"])
        every = [c["cosine"] for g in groups for c in g["cosines"]]
        return ToolResult(values={"identity_consistency": weakest["min"], "mean": mean(every),
                                  "weakest_scene": weakest["weakest_scene"], "weakest_group": groups.index(weakest),
                                  "groups": groups},
                          model_id=clip.spec.model_id)


def _compare_group(embedded: np.ndarray, scenes: list[int]) -> dict[str, Any]:
    """Cosine of each later scene of a group with its first appearance; the group's weakest link."""
    first, later = scenes[0], scenes[1:]
    cosines = cosines_to(embedded[first], embedded[later])
    low = int(np.argmin(cosines))
    return {"scenes": scenes, "first": first,
            "cosines": [{"scene": s, "cosine": c} for s, c in zip(later, cosines, strict=True)],
            "min": cosines[low], "mean": mean(cosines), "weakest_scene": later[low]}
