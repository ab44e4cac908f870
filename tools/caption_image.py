"""caption_image: one sentence on what an image shows (the captioner is in `tools.engines.captioner`).

The critic captions assets and compares the caption with the step's intent; accessibility deliverables
(alt text) use the captions directly.
"""
from __future__ import annotations

from pydantic import Field

from tools.base import Tool, ToolContext, ToolError, ToolInput, ToolResult, asset_ref
from tools.media.image import open_image
from tools.registry import register


class CaptionImageInput(ToolInput):
    image: str = asset_ref("image", "The image to describe (an image asset id).")
    prompt: str | None = Field(
        default=None, min_length=1, max_length=200,
        description='Optional start of the caption for the model to continue, e.g. "a picture of".',
    )


@register
class CaptionImage(Tool):
    """Describe what an image shows in one sentence (image captioning); returns the caption text."""

    name = "caption_image"
    input_model = CaptionImageInput
    outputs = {}
    values = frozenset({"caption"})
    model_role = "captioner"

    def batch_key(self, args: CaptionImageInput) -> tuple:
        # BLIP batches images that share a prompt (the prompt tokens are not padded per image).
        return ("prompt", args.prompt)

    def run(self, args: CaptionImageInput, ctx: ToolContext) -> ToolResult:
        return self.run_batch([args], ctx)[0]

    def run_batch(self, args_list: list[CaptionImageInput], ctx: ToolContext) -> list[ToolResult]:
        """Every image in one generate call (greedy decoding: the same captions as one by one)."""
        images = [open_image(ctx.asset(a.image, "image").path) for a in args_list]
        with ctx.models.use(self.model_role) as captioner:
            captions = captioner.caption(images, prompt=args_list[0].prompt)
        results = []
        for args, caption in zip(args_list, captions, strict=True):
            # A caption that only repeats the prompt says nothing about the image: fail rather than
            # hand the critic an empty description to compare with the intent.
            if _words(caption) == _words(args.prompt or ""):
                raise ToolError(f"caption_image: the captioner produced no description for image {args.image}")
            results.append(ToolResult(values={"caption": caption}, model_id=captioner.spec.model_id))
        return results


def _words(text: str) -> str:
    return "".join(text.lower().split())
