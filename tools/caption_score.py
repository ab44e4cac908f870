"""caption_score: does a caption of the asset say what was asked? The asset is captioned (BLIP, in
`tools.engines.captioner`) and the caption and the intent compared as sentence embeddings (MiniLM)."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from tools.base import MediaInput, Tool, ToolContext, ToolError, ToolResult
from tools.media.image import open_image
from tools.media.keyframes import keyframe_spans, merge_segments, sample_keyframes
from tools.metrics import cosine
from tools.registry import register


class CaptionScoreInput(MediaInput):
    text: str = Field(min_length=1, max_length=2000, description="The intent the caption is held against.")
    frames: int = Field(default=4, ge=1, le=16, description="Video only: how many keyframes to sample and caption.")


@register
class CaptionScore(Tool):
    """Caption an image or video and score how close the caption is to the intent: the cosine of their
    sentence embeddings (MiniLM, -1..1; near 1 when the caption says what was asked). The caption is returned.
    """

    name = "caption_score"
    input_model = CaptionScoreInput
    outputs = {}
    # The captioner differs between profiles and the embedder does not, so the captioner's id is the one
    # that keys the tool-call cache and goes in the scores table; the embedder's id is in the details.
    model_role = "captioner"

    def run(self, args: CaptionScoreInput, ctx: ToolContext) -> ToolResult:
        caption, segments, label = self._caption(args, ctx)
        if not caption:
            raise ToolError(f"caption_score: the captioner produced no description for {label}")
        with ctx.models.use("embedder") as embedder:
            caption_vec, text_vec = embedder.encode([caption, args.text], normalize_embeddings=True,
                                                    convert_to_numpy=True)
        values: dict[str, Any] = {"caption_score": cosine(caption_vec, text_vec), "caption": caption,
                                  "embedder": embedder.spec.model_id}
        if segments is not None:
            values["segments"] = segments
        return ToolResult(values=values, model_id=ctx.models.spec(self.model_role).model_id)

    def _caption(self, args: CaptionScoreInput, ctx: ToolContext) -> tuple[str, list[dict] | None, str]:
        """The caption of an image; for a video, its keyframes' captions, repeats merged, joined as
        sentences in order (one text to embed, as a viewer would summarise the clip)."""
        if args.image is not None:
            with ctx.models.use(self.model_role) as captioner:
                caption = captioner.caption([open_image(ctx.asset(args.image, "image").path)])[0]
            return caption, None, f"image {args.image}"
        duration, frames = sample_keyframes(ctx.asset(args.video, "video").path, args.frames, name=args.video)
        with ctx.models.use(self.model_role) as captioner:
            captions = captioner.caption(frames)
        segments = merge_segments(keyframe_spans(duration, len(frames)), captions)
        return ". ".join(s["caption"] for s in segments), segments, f"video {args.video}"
