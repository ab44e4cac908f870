"""generate_video: a short clip from text, or an animated reference image (the model is in
`tools.engines.text_to_video`)."""
from __future__ import annotations

import random
from typing import Annotated, Any

from pydantic import Field, model_validator

from tools.base import (
    MAX_SEED,
    Artifact,
    Seed,
    Text,
    Tool,
    ToolContext,
    ToolError,
    ToolInput,
    ToolResult,
    VideoSide,
    asset_ref,
)
from tools.engines.text_to_video import MAX_FRAMES
from tools.media.image import open_image
from tools.media.mp4 import encode_frames_mp4
from tools.registry import register


class GenerateVideoInput(ToolInput):
    """Arguments of `generate_video`."""

    prompt: Text = Field(min_length=1, max_length=2000, description="What happens in the clip.")
    image: Annotated[str | None, asset_ref("image", "A picture to animate; empty = video from text alone.")] = None
    seconds: float = Field(default=2.0, ge=0.5, le=10, description="Length; rounded to the model's frame steps.")
    fps: int = Field(default=8, ge=4, le=30, description="Frames per second.")
    width: VideoSide = Field(default=256, ge=64, le=1280, description="Pixels; a multiple of 32.")
    height: VideoSide = Field(default=256, ge=64, le=1280, description="Pixels; a multiple of 32.")
    seed: Seed | None = Field(default=None, description="Fixes the result; empty = random.")
    steps: int | None = Field(default=None, ge=1, le=100, description="Denoising steps; empty = profile default.")

    @model_validator(mode="after")
    def _not_too_long(self) -> GenerateVideoInput:
        if round(self.seconds * self.fps) > MAX_FRAMES:
            raise ValueError(f"`seconds` x `fps` = {self.seconds:g} x {self.fps} asks for "
                             f"{round(self.seconds * self.fps)} frames; the limit is {MAX_FRAMES}")
        return self


@register
class GenerateVideo(Tool):
    """Make a short video clip from a text prompt, or animate a reference image (image-to-video); returns an H.264 MP4 asset."""  # noqa: E501

    name = "generate_video"
    input_model = GenerateVideoInput
    outputs = {"video": "video"}
    model_role = "text_to_video"

    def run(self, args: GenerateVideoInput, ctx: ToolContext) -> ToolResult:
        seed = args.seed if args.seed is not None else random.randint(0, MAX_SEED)
        image = _reference_image(ctx, args.image) if args.image else None
        with ctx.models.use(self.model_role) as model:
            steps = args.steps or model.spec.options.get("steps", 8)
            frames = model.generate(
                args.prompt, seed=seed, frames=round(args.seconds * args.fps), fps=args.fps, width=args.width,
                height=args.height, steps=steps, image=image, cancelled=ctx.cancelled,
            )
            guidance = model.guidance()
        width, height = frames[0].size
        params = {"fps": args.fps, "frames": len(frames), "seed": seed, "steps": steps, "image": args.image,
                  "width": width, "height": height, "guidance_scale": guidance}
        artifact = Artifact(
            name="video", kind="video", mime="video/mp4", data=encode_frames_mp4(frames, args.fps),
            intent=args.prompt, width=width, height=height, duration=len(frames) / args.fps, params=params,
        )
        return ToolResult(artifacts=[artifact], model_id=model.spec.model_id, model_revision=model.spec.hub_revision)


def _reference_image(ctx: ToolContext, asset_id: str) -> Any:
    view = ctx.asset(asset_id, "image")
    try:
        return open_image(view.path)
    except ToolError as exc:
        raise ToolError(f"image asset {asset_id}: {exc}") from None
