"""Text-to-image with diffusers: the pipeline `generate_image` runs, its loader, and the tiny offline build."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.base import ToolError
from tools.engines.tiny import SEED, TOKENIZER_DIR, pretrained_source, text_config
from tools.profiles import ModelSpec


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
            start = [reference.resize((width, height))] * len(prompts)
            kwargs = dict(prompt=prompts, negative_prompt=negative, image=start, strength=strength,
                          num_inference_steps=max(steps, math.ceil(1 / strength)), guidance_scale=0.0,
                          generator=generators)
            if self.ip_adapter is not None:
                return self._with_ip_adapter(start, cancelled, kwargs)
            return self._run(self.image_to_image(), cancelled, **kwargs)
        return self._run(self.pipe, cancelled, prompt=prompts, negative_prompt=negative, num_inference_steps=steps,
                         guidance_scale=0.0, generator=generators, width=width, height=height)

    @property
    def ip_adapter(self) -> dict[str, Any] | None:
        """The profile's IP-Adapter (repo, subfolder, weight_name, scale) where its pipeline has one."""
        return self.spec.options.get("ip_adapter")

    def _with_ip_adapter(self, references: list[Any], cancelled, kwargs: dict[str, Any]) -> list[Any]:
        """Image-to-image that also sees the reference through an IP-Adapter (hub weights, loaded for the call
        and unloaded after: with it loaded, a call without a reference picture would fail)."""
        from diffusers import AutoPipelineForImage2Image

        ip = self.ip_adapter
        self.pipe.load_ip_adapter(ip["repo"], subfolder=ip["subfolder"], weight_name=ip["weight_name"],
                                  revision=ip.get("revision", "main"))
        try:
            pipe = AutoPipelineForImage2Image.from_pipe(self.pipe)
            pipe.set_progress_bar_config(disable=True)
            pipe.set_ip_adapter_scale(ip["scale"])
            return self._run(pipe, cancelled, ip_adapter_image=references, **kwargs)
        finally:
            self.pipe.unload_ip_adapter()

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
    pipe = AutoPipelineForText2Image.from_pretrained(source, dtype=dtype, revision=spec.hub_revision)
    if manager.cpu_offload and manager.device.startswith("cuda"):
        pipe.enable_model_cpu_offload()  # each component visits the GPU only while it runs
    else:
        pipe = pipe.to(manager.device)
    pipe.set_progress_bar_config(disable=True)
    return TextToImage(pipe=pipe, spec=spec, device=manager.device)


def build_sd(out: Path) -> None:
    """A Stable-Diffusion-shaped pipeline (UNet, VAE, CLIP text encoder, Euler scheduler), a few MB."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(SEED)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
    )
    # Four VAE blocks downsample 8x, as in real Stable Diffusion: a 256 px image denoises as 32x32
    # latents. Few channels at full resolution keep decoding (otherwise ~75% of the time) cheap on a CPU.
    vae = AutoencoderKL(
        block_out_channels=[8, 16, 32, 32], norm_num_groups=8, in_channels=3, out_channels=3, latent_channels=4,
        sample_size=256, down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(**text_config()))
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", timestep_spacing="trailing",
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=text_encoder, scheduler=scheduler,
        tokenizer=CLIPTokenizer.from_pretrained(str(TOKENIZER_DIR), model_max_length=77),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipe.save_pretrained(str(out))
