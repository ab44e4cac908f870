"""generate_image: text-to-image diffusion, optionally from a reference image (the model is in
`tools.engines.text_to_image`)."""
from __future__ import annotations

import random
from typing import Annotated

from pydantic import Field

from tools.base import (
    MAX_SEED,
    Artifact,
    ImageSide,
    Seed,
    Text,
    Tool,
    ToolContext,
    ToolInput,
    ToolResult,
    asset_ref,
)
from tools.media.image import encode_png, open_image
from tools.profiles import ModelSpec
from tools.registry import register


class GenerateImageInput(ToolInput):
    prompt: Text = Field(min_length=1, max_length=2000, description="What the image shows.")
    negative_prompt: str | None = Field(default=None, max_length=2000, description="What to keep out of it.")
    seed: Seed | None = Field(default=None, description="Fixes the result; empty = random.")
    width: ImageSide = Field(default=512, ge=64, le=2048, description="Pixels; a multiple of 8.")
    height: ImageSide = Field(default=512, ge=64, le=2048, description="Pixels; a multiple of 8.")
    steps: int | None = Field(default=None, ge=1, le=100, description="Denoising steps; empty = profile default.")
    reference: Annotated[str | None, asset_ref(
        "image", "Start from this image (image-to-image) to keep a character or style; empty = from noise."
    )] = None
    strength: float = Field(default=0.6, ge=0.1, le=1.0, description="With a reference: how far to move from it.")


@register
class GenerateImage(Tool):
    """Draw an image from a text prompt (text-to-image diffusion), optionally starting from a reference
    image to keep a character or style consistent; returns a PNG asset."""

    name = "generate_image"
    input_model = GenerateImageInput
    outputs = {"image": "image"}
    model_role = "text_to_image"

    def batch_key(self, args: GenerateImageInput) -> tuple | None:
        # One diffusion call needs one size, one step count and one negative prompt.
        return (args.width, args.height, args.steps, args.negative_prompt, args.reference, args.strength)

    def run(self, args: GenerateImageInput, ctx: ToolContext) -> ToolResult:
        return self.run_batch([args], ctx)[0]

    def run_batch(self, args_list: list[GenerateImageInput], ctx: ToolContext) -> list[ToolResult]:
        """Every image in one diffusion call, each with its own seeded generator."""
        first = args_list[0]
        seeds = [a.seed if a.seed is not None else random.randint(0, MAX_SEED) for a in args_list]
        reference = open_image(ctx.asset(first.reference, "image").path) if first.reference else None
        with ctx.models.use(self.model_role) as model:
            steps = first.steps or model.spec.options.get("steps", 4)
            negative = [a.negative_prompt for a in args_list] if first.negative_prompt else None
            images = model.generate([a.prompt for a in args_list], seeds, steps=steps, width=first.width,
                                    height=first.height, negative=negative, reference=reference,
                                    strength=first.strength, cancelled=ctx.cancelled)
        return [self._result(args, image, seed, steps, model.spec)
                for args, image, seed in zip(args_list, images, seeds, strict=True)]

    @staticmethod
    def _result(args: GenerateImageInput, image, seed: int, steps: int, spec: ModelSpec) -> ToolResult:
        ip_adapter = spec.options.get("ip_adapter") if args.reference else None
        params = {"steps": steps, "seed": seed, "guidance_scale": 0.0, "reference": args.reference,
                  "strength": args.strength if args.reference else None,
                  "ip_adapter_scale": ip_adapter["scale"] if ip_adapter else None}
        artifact = Artifact(name="image", kind="image", mime="image/png", data=encode_png(image),
                            intent=args.prompt, width=image.width, height=image.height, params=params)
        return ToolResult(artifacts=[artifact], model_id=spec.model_id, model_revision=spec.hub_revision)
