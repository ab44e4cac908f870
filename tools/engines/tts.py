"""Text-to-speech: the hibari voice `speak` and `narration_wer` run, and its loader."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from tools.base import ToolError
from tools.profiles import ModelSpec, local_path


@dataclass
class Voice:
    """A loaded hibari TTS model (ONNX, 24 kHz); synthesises sentence by sentence to time each one."""

    tts: Any
    spec: ModelSpec

    @property
    def rate(self) -> int:
        return int(self.tts.sample_rate)

    def speak(self, text: str, *, speed: float, seed: int) -> tuple[np.ndarray, list[dict]]:
        """Audio for `text` and one {text, start, end} segment per sentence (seconds)."""
        parts, segments, t = [], [], 0.0
        for sentence in self.tts.split_sentences(text):
            audio = self.tts(sentence, speed=speed, seed=seed)
            if len(audio) == 0:
                continue
            duration = len(audio) / self.rate
            segments.append({"text": sentence.strip(), "start": round(t, 3), "end": round(t + duration, 3)})
            parts.append(audio)
            t += duration
        if not parts:
            raise ToolError("speak: the text has nothing pronounceable")
        return np.concatenate(parts), segments


def load_tts(spec: ModelSpec, manager) -> Voice:
    """hibari's bundled voice; other voices would download, so they are never requested here."""
    from hibari import Hibari

    return Voice(tts=Hibari(model=str(local_path(spec, manager.models_dir)), threads=1), spec=spec)


def installed_voices() -> list[str]:
    """Voices usable with no network: bundled in the package or already in hibari's cache."""
    from hibari.voices import VOICES, cache_dir

    return [n for n, v in VOICES.items() if v.get("bundled") or os.path.exists(os.path.join(cache_dir(), v["file"]))]
