"""CLIP, the image-text dual encoder that `clip_score`, `identity_consistency` and the critic run: its
loader and the tiny offline build."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools.engines.tiny import SEED, TOKENIZER_DIR, pretrained_source, text_config
from tools.profiles import ModelSpec


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


def load_clip(spec: ModelSpec, manager) -> Clip:
    from transformers import CLIPModel, CLIPProcessor

    source = pretrained_source(spec, manager.models_dir)
    model = CLIPModel.from_pretrained(source, revision=spec.hub_revision).to(manager.device).eval()
    processor = CLIPProcessor.from_pretrained(source, revision=spec.hub_revision)
    return Clip(model=model, processor=processor, spec=spec, device=manager.device)


def build_clip(out: Path) -> None:
    """A CLIP dual encoder (32-dim projections, 32 px images) with its processor."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    torch.manual_seed(SEED)
    config = CLIPConfig(
        text_config=text_config(),
        vision_config=dict(
            hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
            image_size=32, patch_size=4,
        ),
        projection_dim=32,
    )
    CLIPModel(config).save_pretrained(str(out))
    processor = CLIPProcessor(
        image_processor=CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
        tokenizer=CLIPTokenizer.from_pretrained(str(TOKENIZER_DIR), model_max_length=77),
    )
    processor.save_pretrained(str(out))
