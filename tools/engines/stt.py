"""Speech-to-text: faster-whisper, which `transcribe` and `narration_wer` run, its loader, and the
hotwords that help it hear names."""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from tools.profiles import ModelSpec, local_path

STT_RATE = 16000  # what whisper listens at


def load_stt(spec: ModelSpec, manager):
    """faster-whisper (CTranslate2): the packaged tiny.en offline, a hub size otherwise."""
    from faster_whisper import WhisperModel

    cuda = manager.device.startswith("cuda")
    source = str(local_path(spec, manager.models_dir)) if spec.source == "package" else spec.options["size"]
    model = WhisperModel(source, device="cuda" if cuda else "cpu", compute_type="float16" if cuda else "int8",
                         download_root=str(manager.models_dir / "whisper"))
    model.spec = spec
    return model


def listen(model: Any, audio: np.ndarray, context: str | None, *, word_timestamps: bool = False) -> tuple[list, Any]:
    """What whisper hears in `audio` (mono, STT_RATE): English, voice-activity filtered, greedy, with
    `context` as its prompt and its names as hotwords. Returns the decoded segments and whisper's info."""
    segments, info = model.transcribe(audio, language="en", vad_filter=True, word_timestamps=word_timestamps,
                                      initial_prompt=context, hotwords=hotwords(context), beam_size=1)
    return list(segments), info


def clean_context(text: str | None) -> str | None:
    """A tool's `context` argument as the recogniser gets it: stripped, and None when blank."""
    return text.strip() if text and text.strip() else None


_QUOTED = re.compile(r'"([^"]{1,60})"|“([^”]{1,60})”|‘([^’]{1,60})’|(?<!\w)\'([^\']{1,60})\'(?!\w)')
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*")
_COMMON = {"A", "An", "And", "As", "At", "But", "By", "For", "From", "He", "Her", "His", "I", "In", "It", "Its",
           "Of", "On", "Or", "She", "So", "That", "The", "Then", "There", "They", "This", "To", "We", "With", "You"}
MAX_HOTWORDS = 20


def hotwords(context: str | None) -> str | None:
    """The terms of `context` most likely to be misheard: quoted terms, then capitalised words (names).

    Why both hints: faster-whisper puts `initial_prompt` in the prompt as if it were earlier speech,
    which steers spelling and style but is pushed out by the decoded text after the first 30 s window;
    `hotwords` are prepended to every window's prompt. A short list of distinct names there keeps them
    heard right all the way through; the whole context stays in `initial_prompt`. Common capitalised
    function words ("The" at a sentence start) are dropped; at most MAX_HOTWORDS, in order of appearance.
    """
    if not context:
        return None
    quoted = ["".join(groups).strip() for groups in _QUOTED.findall(context)]
    in_quotes = {w.casefold() for term in quoted for w in term.split()}
    capitalised = [re.sub(r"['’]s$", "", w).strip("'’-") for w in _CAPITALISED.findall(context)]
    terms = quoted + [w for w in capitalised if w.casefold() not in in_quotes and w not in _COMMON]
    distinct: dict[str, str] = {}
    for term in filter(None, terms):
        distinct.setdefault(term.casefold(), term)
    return " ".join(list(distinct.values())[:MAX_HOTWORDS]) or None
