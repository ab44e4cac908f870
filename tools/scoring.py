"""Scores the critic uses: the `clip_score` tool (images and videos), and loaders for CLIP and sentence
embeddings. The other consistency scores (captions, identity, narration) are in `tools.consistency`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import Field, model_validator

from tools.base import Tool, ToolContext, ToolInput, ToolResult, asset_ref, register
from tools.caption import keyframe_spans, sample_keyframes
from tools.media import open_image
from tools.metrics import consecutive_cosines, mean
from tools.profiles import ModelSpec, local_path
from tools.tiny import pretrained_source


@dataclass
class Clip:
    """A CLIP dual encoder; embeddings come back L2-normalised as numpy arrays."""

    model: Any
    processor: Any
    spec: ModelSpec
    device: str

    def embed_images(self, images: list[Any]) -> np.ndarray:
        import torch

        inputs = self.processor(images=images, return_tensors="pt").to(self.device)
        with torch.no_grad():
            feats = self.model.get_image_features(**inputs)
        return _normalise(_as_tensor(feats).float().cpu().numpy())

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        inputs = self.processor(text=texts, return_tensors="pt", padding=True, truncation=True).to(self.device)
        with torch.no_grad():
            feats = self.model.get_text_features(**inputs)
        return _normalise(_as_tensor(feats).float().cpu().numpy())


def _as_tensor(out: Any) -> Any:
    """transformers 5 may return a model output object where 4.x returned the pooled tensor."""
    return out if hasattr(out, "cpu") else out.pooler_output


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True).clip(min=1e-12)


def clip_score_from_cosine(cosine: float) -> float:
    """The torchmetrics CLIPScore convention: 100 * max(cosine, 0)."""
    return 100.0 * max(float(cosine), 0.0)


def load_clip(spec: ModelSpec, manager) -> Clip:
    from transformers import CLIPModel, CLIPProcessor

    source = pretrained_source(spec, manager.models_dir)
    revision = None if spec.source == "tiny" else spec.revision
    model = CLIPModel.from_pretrained(source, revision=revision).to(manager.device).eval()
    processor = CLIPProcessor.from_pretrained(source, revision=revision)
    return Clip(model=model, processor=processor, spec=spec, device=manager.device)


def load_embedder(spec: ModelSpec, manager):
    """Sentence embeddings (MiniLM) through sentence-transformers, from the package's folder."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(local_path(spec, manager.models_dir)), device=manager.device)
    model.spec = spec
    return model


class MediaInput(ToolInput):
    """Base of the scores that take an image or a video: exactly one of the two (and a subclass's
    `frames`, the video sampling, only with a video)."""

    image: Annotated[str | None, asset_ref("image", "The image to score (an image asset id); or give `video`.")] = None
    video: Annotated[str | None, asset_ref("video", "The video to score (a video asset id); or give `image`.")] = None

    @model_validator(mode="after")
    def _exactly_one_medium(self) -> MediaInput:
        if (self.image is None) == (self.video is None):
            given = "both were given" if self.image else "neither was given"
            raise ValueError(f"give exactly one of `image` or `video` ({given})")
        if self.image is not None and "frames" in self.model_fields_set:
            raise ValueError("`frames` applies to a `video` only; an image is scored as it is")
        return self


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
