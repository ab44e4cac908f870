"""Speech: `speak` (text-to-speech narration) and `transcribe` (speech-to-text), with their loaders."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from tools.base import Artifact, Tool, ToolContext, ToolError, ToolInput, ToolResult, asset_ref, register
from tools.media import encode_wav, read_wav
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
    import os

    from hibari.voices import VOICES, cache_dir

    return [n for n, v in VOICES.items() if v.get("bundled") or os.path.exists(os.path.join(cache_dir(), v["file"]))]


class SpeakInput(ToolInput):
    text: str = Field(min_length=1, max_length=5000, description="What the narrator says.")
    voice: str = Field(default="heart", description="Voice name (`heart` ships with the package).")
    speed: float = Field(default=1.0, ge=0.5, le=2.0, description="1.0 is natural pace.")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="Fixes the voice's noise: same seed, same audio.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


@register
class Speak(Tool):
    """Speak text aloud as narration; returns a WAV asset, its measured duration and sentence timings."""

    name = "speak"
    input_model = SpeakInput
    outputs = {"audio": "audio"}
    model_role = "tts"

    def run(self, args: SpeakInput, ctx: ToolContext) -> ToolResult:
        with ctx.models.use(self.model_role) as voice:
            if args.voice != "heart" and args.voice not in installed_voices():
                raise ToolError(f"speak: unknown or not installed voice {args.voice!r}; available: heart")
            audio, segments = voice.speak(args.text, speed=args.speed, seed=args.seed)
            rate = voice.rate
        duration = len(audio) / rate
        artifact = Artifact(
            name="audio", kind="audio", mime="audio/wav", data=encode_wav(audio, rate), intent=args.text,
            duration=duration, params={"segments": segments, "sample_rate": rate, "speed": args.speed,
                                       "voice": args.voice, "seed": args.seed},
        )
        return ToolResult(artifacts=[artifact], values={"duration": duration},
                          model_id=voice.spec.model_id, model_revision=None)


def load_stt(spec: ModelSpec, manager):
    """faster-whisper (CTranslate2): the packaged tiny.en offline, a hub size otherwise."""
    from faster_whisper import WhisperModel

    cuda = manager.device.startswith("cuda")
    source = str(local_path(spec, manager.models_dir)) if spec.source == "package" else spec.options["size"]
    model = WhisperModel(source, device="cuda" if cuda else "cpu", compute_type="float16" if cuda else "int8",
                         download_root=str(manager.models_dir / "whisper"))
    model.spec = spec
    return model


class TranscribeInput(ToolInput):
    audio: str = asset_ref("audio", "The speech to transcribe (an audio asset id).")
    context: str | None = Field(
        default=None, max_length=1000,
        description="Names and words seen on screen, given to the recogniser as a hint so they are heard right.",
    )


@register
class Transcribe(Tool):
    """Transcribe speech in an audio asset to text, with word timings (faster-whisper, voice-activity filtered)."""

    name = "transcribe"
    input_model = TranscribeInput
    outputs = {}
    model_role = "stt"

    def run(self, args: TranscribeInput, ctx: ToolContext) -> ToolResult:
        view = ctx.asset(args.audio, "audio")
        try:
            audio, rate = read_wav(view.path)
        except Exception as exc:
            raise ToolError(f"transcribe: cannot decode audio {args.audio}: {exc}") from None
        audio = _resample(audio, rate, 16000)
        with ctx.models.use(self.model_role) as model:
            segments, info = model.transcribe(audio, language="en", vad_filter=True, word_timestamps=True,
                                              initial_prompt=args.context, beam_size=1)
            segments = list(segments)
        spans = [{"text": s.text.strip(), "start": round(s.start, 3), "end": round(s.end, 3)} for s in segments]
        text = " ".join(s["text"] for s in spans).strip()
        return ToolResult(values={"text": text, "segments": spans, "language": info.language},
                          model_id=model.spec.model_id)


def _resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Linear resampling; enough for speech recognition input."""
    if rate == target or len(audio) == 0:
        return audio.astype(np.float32)
    n = int(round(len(audio) * target / rate))
    return np.interp(np.linspace(0, len(audio) - 1, n), np.arange(len(audio)), audio).astype(np.float32)
