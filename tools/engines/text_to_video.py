"""Text-to-video and image-to-video with LTX-Video: the pipelines `generate_video` runs, their loader,
and the tiny offline build.

LTX-Video's VAE turns 32x32 pixels into one latent and 8 frames into one latent frame (after the
first), so a clip has 8k+1 frames and sides that are multiples of 32. The tiny offline model is built
with the same ratios, so the same arguments give the same frame counts offline and on a GPU.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.base import ToolError
from tools.engines.tiny import SEED, TOKENIZER_DIR, pretrained_source
from tools.profiles import ModelSpec

MAX_FRAMES = 241  # 8 x 30 + 1: about ten seconds at 24 fps, within the lengths LTX-Video was trained on
PROMPT_TOKENS = 128  # LTX-Video's prompt length (the pipeline's max_sequence_length)
# The negative prompt from LTX-Video's model card; used only when classifier-free guidance is on.
NEGATIVE = "worst quality, inconsistent motion, blurry, jittery, distorted"


def nearest_frame_count(requested: int, step: int = 8, limit: int = MAX_FRAMES) -> int:
    """The frame count nearest `requested` of the form k * step + 1, with k >= 1 (a clip has at least
    one latent frame beyond the first, so it moves) and never above `limit`."""
    k = max(1, int((requested - 1) / step + 0.5))
    while k > 1 and k * step + 1 > limit:
        k -= 1
    return k * step + 1


@dataclass
class TextToVideo:
    """A loaded LTX text-to-video pipeline, its image-to-video twin (same modules) and the profile's choices."""

    pipe: Any
    i2v: Any | None
    spec: ModelSpec
    device: str

    def generate(self, prompt: str, *, seed: int, frames: int, fps: int, width: int, height: int, steps: int,
                 image: Any = None, cancelled: Callable[[], bool] = lambda: False) -> list[Any]:
        """PIL frames for `prompt` (animating `image` when given); frames and size are first rounded to
        the nearest values the model accepts, so read the used ones off the result."""
        import torch

        if cancelled():
            raise ToolError("cancelled")
        pipe, extra = self._pipeline_for(image, width, height)

        def stop_if_cancelled(pipe, step, timestep, kwargs):
            if cancelled():
                pipe._interrupt = True  # diffusers checks this flag between denoising steps
            return kwargs

        guidance = self.guidance()
        out = pipe(
            prompt=prompt, negative_prompt=NEGATIVE if guidance > 1 else None, guidance_scale=guidance,
            num_frames=nearest_frame_count(frames, self.pipe.vae_temporal_compression_ratio),
            frame_rate=fps, width=self._fit(width), height=self._fit(height), num_inference_steps=steps,
            generator=torch.Generator(device="cpu").manual_seed(seed), output_type="pil",
            callback_on_step_end=stop_if_cancelled, max_sequence_length=PROMPT_TOKENS, **extra, **self._decode(),
        )
        if cancelled():
            raise ToolError("cancelled")
        return list(out.frames[0])

    def guidance(self) -> float:
        """The classifier-free guidance scale used (1.0 = off: tiny models gain nothing from it)."""
        return float(self.spec.options.get("guidance_scale", 1.0 if self.spec.source == "tiny" else 3.0))

    def _pipeline_for(self, image: Any, width: int, height: int) -> tuple[Any, dict[str, Any]]:
        if image is None:
            return self.pipe, {}
        if self.i2v is None:
            raise ToolError(f"model {self.spec.model_id} cannot animate an image (text-to-video only)")
        from PIL import ImageOps

        # Crop to the clip's aspect before the pipeline resizes, so the picture is not stretched.
        return self.i2v, {"image": ImageOps.fit(image, (self._fit(width), self._fit(height)))}

    def _fit(self, side: int) -> int:
        step = self.pipe.vae_spatial_compression_ratio
        return max(step, round(side / step) * step)

    def _decode(self) -> dict[str, float]:
        # LTX-Video 0.9.1+ decoders are trained to remove a little noise while decoding; these are the
        # values diffusers' LTX docs use. Older and tiny VAEs have no timestep input and take none.
        if not self.pipe.vae.config.get("timestep_conditioning"):
            return {}
        return {"decode_timestep": self.spec.options.get("decode_timestep", 0.03),
                "decode_noise_scale": self.spec.options.get("decode_noise_scale", 0.025)}


def load_text_to_video(spec: ModelSpec, manager) -> TextToVideo:
    """Load the profile's pipeline with `DiffusionPipeline.from_pretrained` (tiny or hub) and build the
    image-to-video pipeline from the same modules, so both cost one model's memory."""
    import torch
    from diffusers import DiffusionPipeline
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.disable_progress_bar()  # callers show their own progress
    source = pretrained_source(spec, manager.models_dir)
    dtype = getattr(torch, spec.options.get("dtype", "float32"))
    pipe = DiffusionPipeline.from_pretrained(source, dtype=dtype, revision=spec.hub_revision)
    i2v = _image_to_video(pipe)
    if getattr(manager, "cpu_offload", False) and manager.device.startswith("cuda"):
        pipe.enable_model_cpu_offload()  # the hooks sit on the shared modules, so the i2v pipeline uses them too
    else:
        pipe = pipe.to(manager.device)
    for each in (pipe, i2v):
        if each is not None:
            each.set_progress_bar_config(disable=True)
    return TextToVideo(pipe=pipe, i2v=i2v, spec=spec, device=manager.device)


def _image_to_video(pipe: Any) -> Any | None:
    from diffusers import LTXImageToVideoPipeline, LTXPipeline

    return LTXImageToVideoPipeline(**pipe.components) if isinstance(pipe, LTXPipeline) else None


def build_tiny_video(out: Path) -> None:
    """A tiny random LTX-Video pipeline (LTXPipeline, under 1 MB) with the real model's layout: a VAE
    compressing 32x spatially and 8x in time, a one-layer transformer, a two-layer T5 encoder."""
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import CLIPTokenizer, T5Config, T5EncoderModel

    # The real tokenizer is T5's SentencePiece model, which cannot be downloaded here. The pipeline only
    # tokenizes and encodes, so the shipped BPE tokenizer works when the encoder's vocabulary matches it.
    tokenizer = CLIPTokenizer.from_pretrained(str(TOKENIZER_DIR), model_max_length=PROMPT_TOKENS)
    torch.manual_seed(SEED)
    text_encoder = T5EncoderModel(T5Config(
        vocab_size=len(tokenizer), d_model=32, d_ff=37, d_kv=8, num_heads=4, num_layers=2,
        relative_attention_num_buckets=8, feed_forward_proj="gated-gelu",
    ))
    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, num_attention_heads=4, attention_head_dim=8, cross_attention_dim=32,
        num_layers=1, caption_channels=32,
    )
    # 4 px patches and three 2x stages give the real model's 32x spatial and 8x temporal compression.
    stages = (True, True, True, False)
    vae = AutoencoderKLLTXVideo(
        latent_channels=8, block_out_channels=(8,) * 4, decoder_block_out_channels=(8,) * 4,
        layers_per_block=(1,) * 5, decoder_layers_per_block=(1,) * 5, spatio_temporal_scaling=stages,
        decoder_spatio_temporal_scaling=stages, patch_size=4, patch_size_t=1,
    )
    # Lightricks/LTX-Video's own scheduler settings: the shift grows with the number of latent tokens.
    scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True, base_image_seq_len=1024, max_image_seq_len=4096, base_shift=0.95,
        max_shift=2.05, shift_terminal=0.1,
    )
    pipe = LTXPipeline(scheduler=scheduler, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                       transformer=transformer)
    pipe.save_pretrained(str(out))
