"""Text-to-image with diffusers: the `generate_image` tool and its model loader."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from tools.base import (
    Artifact,
    ImageSide,
    Text,
    Tool,
    ToolContext,
    ToolError,
    ToolInput,
    ToolResult,
    asset_ref,
    register,
)
from tools.media import encode_png, open_image
from tools.profiles import ModelSpec
from tools.tiny import pretrained_source

MAX_SEED = 2**32 - 1


@dataclass
class TextToImage:
    """A loaded diffusers pipeline plus the defaults its profile chose."""

    pipe: Any
    spec: ModelSpec
    device: str
    _img2img: Any = None

    def image_to_image(self) -> Any:
        """The same weights as an image-to-image pipeline (no second load)."""
        if self._img2img is None:
            from diffusers import AutoPipelineForImage2Image

            self._img2img = AutoPipelineForImage2Image.from_pipe(self.pipe)
            self._img2img.set_progress_bar_config(disable=True)
        return self._img2img

    def generate(self, prompts: list[str], seeds: list[int], *, steps: int, width: int, height: int,
                 negative: list[str] | None = None, reference: Any = None, strength: float = 0.6,
                 cancelled=lambda: False) -> list[Any]:
        """One batched diffusion call; each image has its own seeded generator, so a batch gives the
        same pictures as the same prompts run one by one. With a `reference` image the call starts
        from it (image-to-image), keeping its composition, characters and palette."""
        import torch

        generators = [torch.Generator(device="cpu").manual_seed(s) for s in seeds]
        if reference is not None:
            return self._run(self.image_to_image(), cancelled, prompt=prompts, negative_prompt=negative,
                             image=[reference.resize((width, height))] * len(prompts), strength=strength,
                             num_inference_steps=max(steps, math.ceil(1 / strength)), guidance_scale=0.0,
                             generator=generators)
        return self._run(self.pipe, cancelled, prompt=prompts, negative_prompt=negative, num_inference_steps=steps,
                         guidance_scale=0.0, generator=generators, width=width, height=height)

    @staticmethod
    def _run(pipe: Any, cancelled, **kwargs) -> list[Any]:
        def stop_if_cancelled(pipe, step, timestep, kwargs):
            if cancelled():
                pipe._interrupt = True  # diffusers checks this flag between denoising steps
            return kwargs

        out = pipe(**kwargs, callback_on_step_end=stop_if_cancelled)
        if cancelled():
            raise ToolError("cancelled")
        return list(out.images)


def load_text_to_image(spec: ModelSpec, manager) -> TextToImage:
    """Load the profile's pipeline with `AutoPipelineForText2Image.from_pretrained` (tiny or hub)."""
    import torch
    from diffusers import AutoPipelineForText2Image
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.disable_progress_bar()  # callers show their own progress
    source = pretrained_source(spec, manager.models_dir)
    dtype = getattr(torch, spec.options.get("dtype", "float32"))
    pipe = AutoPipelineForText2Image.from_pretrained(source, dtype=dtype, revision=_revision(spec))
    if manager.cpu_offload and manager.device.startswith("cuda"):
        pipe.enable_model_cpu_offload()  # each component visits the GPU only while it runs
    else:
        pipe = pipe.to(manager.device)
    pipe.set_progress_bar_config(disable=True)
    return TextToImage(pipe=pipe, spec=spec, device=manager.device)


def _revision(spec: ModelSpec) -> str | None:
    return None if spec.source == "tiny" else spec.revision


class GenerateImageInput(ToolInput):
    prompt: Text = Field(min_length=1, max_length=2000, description="What the image shows.")
    negative_prompt: str | None = Field(default=None, max_length=2000, description="What to keep out of it.")
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED, description="Fixes the result; empty = random.")
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
        params = {"steps": steps, "seed": seed, "guidance_scale": 0.0, "reference": args.reference,
                  "strength": args.strength if args.reference else None}
        artifact = Artifact(name="image", kind="image", mime="image/png", data=encode_png(image),
                            intent=args.prompt, width=image.width, height=image.height, params=params)
        return ToolResult(artifacts=[artifact], model_id=spec.model_id, model_revision=_revision(spec))
