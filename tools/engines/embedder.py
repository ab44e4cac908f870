"""Sentence embeddings (MiniLM), which `caption_score` compares captions and intents with: the loader."""
from __future__ import annotations

from tools.profiles import ModelSpec, local_path


def load_embedder(spec: ModelSpec, manager):
    """Sentence embeddings (MiniLM) through sentence-transformers, from the package's folder."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(local_path(spec, manager.models_dir)), device=manager.device)
    model.spec = spec
    return model
