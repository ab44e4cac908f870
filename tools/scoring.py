"""Scores the critic uses: the `clip_score` tool, and loaders for CLIP and sentence embeddings."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from tools.base import Tool, ToolContext, ToolInput, ToolResult, asset_ref, register
from tools.media import open_image
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


class ClipScoreInput(ToolInput):
    image: str = asset_ref("image", "The image to score (an image asset id).")
    text: str = Field(min_length=1, max_length=2000, description="What the image should show.")


@register
class ClipScore(Tool):
    """Score how well an image matches a text with CLIP: 100 * max(cosine(image, text), 0)."""

    name = "clip_score"
    input_model = ClipScoreInput
    outputs = {}
    model_role = "clip"

    def run(self, args: ClipScoreInput, ctx: ToolContext) -> ToolResult:
        image = open_image(ctx.asset(args.image, "image").path)
        with ctx.models.use(self.model_role) as clip:
            cosine = float(clip.embed_images([image])[0] @ clip.embed_texts([args.text])[0])
        return ToolResult(values={"clip_score": clip_score_from_cosine(cosine), "cosine": cosine},
                          model_id=clip.spec.model_id)
