"""clip_score: how well an image or a video matches a text, by CLIP (the model is in `tools.engines.clip`).
The other consistency scores are `caption_score`, `identity_consistency` and `narration_wer`."""
from __future__ import annotations

from pydantic import Field

from tools.base import MediaInput, Tool, ToolContext, ToolResult
from tools.media.image import open_image
from tools.media.keyframes import keyframe_spans, sample_keyframes
from tools.metrics import clip_score_from_cosine, consecutive_cosines, mean
from tools.registry import register


class ClipScoreInput(MediaInput):
    text: str = Field(min_length=1, max_length=2000, description="What the image or video should show.")
    frames: int = Field(default=8, ge=2, le=32, description="Video only: how many frames to sample evenly and score.")


@register
class ClipScore(Tool):
    """Score how well an image or a video matches a text with CLIP: 100 * max(cosine(image, text), 0).

    A video scores the mean over evenly sampled frames, and reports `frame_consistency`: the mean
    cosine between consecutive sampled frames (1.0 for a still shot; lower when the picture jumps).
    """

    name = "clip_score"
    input_model = ClipScoreInput
    outputs = {}
    model_role = "clip"

    def run(self, args: ClipScoreInput, ctx: ToolContext) -> ToolResult:
        if args.video is not None:
            return self._score_video(args, ctx)
        image = open_image(ctx.asset(args.image, "image").path)
        with ctx.models.use(self.model_role) as clip:
            cosine = float(clip.embed_images([image])[0] @ clip.embed_texts([args.text])[0])
        return ToolResult(values={"clip_score": clip_score_from_cosine(cosine), "cosine": cosine},
                          model_id=clip.spec.model_id)

    def _score_video(self, args: ClipScoreInput, ctx: ToolContext) -> ToolResult:
        """Per-frame scores in the image convention; their mean is the video's score (torchmetrics
        averages per-sample scores the same way), so a video and its frames as images agree."""
        duration, frames = sample_keyframes(ctx.asset(args.video, "video").path, args.frames, name=args.video)
        with ctx.models.use(self.model_role) as clip:
            embedded = clip.embed_images(frames)
            text = clip.embed_texts([args.text])[0]
        cosines = [float(c) for c in embedded @ text]
        scores = [clip_score_from_cosine(c) for c in cosines]
        between = consecutive_cosines(embedded)
        times = [round((a + b) / 2, 3) for a, b in keyframe_spans(duration, len(frames))]
        return ToolResult(values={"clip_score": mean(scores), "frame_consistency": mean(between),
                                  "cosine": mean(cosines), "frame_scores": scores, "frame_cosines": cosines,
                                  "consecutive_cosines": between, "frame_times": times, "frames": len(frames)},
                          model_id=clip.spec.model_id)
