"""caption_video: a timed description of a video from captions of its keyframes (the captioner is in
`tools.engines.captioner`, the keyframe sampling in `tools.media.keyframes`)."""
from __future__ import annotations

from pydantic import Field

from tools.base import Tool, ToolContext, ToolError, ToolInput, ToolResult, asset_ref
from tools.media.keyframes import keyframe_spans, merge_segments, sample_keyframes
from tools.registry import register


class CaptionVideoInput(ToolInput):
    video: str = asset_ref("video", "The video to describe (a video asset id).")
    keyframes: int = Field(default=4, ge=1, le=16, description="How many frames to sample evenly and caption.")


@register
class CaptionVideo(Tool):
    """Describe a video: keyframes are sampled and captioned, and the captions merged into one description with timestamps."""  # noqa: E501

    name = "caption_video"
    input_model = CaptionVideoInput
    outputs = {}
    values = frozenset({"description"})
    model_role = "captioner"

    def run(self, args: CaptionVideoInput, ctx: ToolContext) -> ToolResult:
        view = ctx.asset(args.video, "video")
        duration, frames = sample_keyframes(view.path, args.keyframes, name=args.video)
        with ctx.models.use(self.model_role) as captioner:
            captions = captioner.caption(frames)
        segments = merge_segments(keyframe_spans(duration, len(frames)), captions)
        if not segments:
            raise ToolError(f"caption_video: the captioner produced no description for video {args.video}")
        description = "; ".join(f"{s['start']:.1f}-{s['end']:.1f} s: {s['caption']}" for s in segments)
        return ToolResult(
            values={"description": description, "segments": segments, "keyframes": len(frames)},
            model_id=captioner.spec.model_id,
        )
