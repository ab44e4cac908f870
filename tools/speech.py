"""Speech: `speak` (text-to-speech narration) and `transcribe` (speech-to-text), with their loaders."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from tools.audio import read_audio, resample, trailing_silence
from tools.base import Artifact, Text, Tool, ToolContext, ToolError, ToolInput, ToolResult, asset_ref, register
from tools.media import encode_wav
from tools.profiles import ModelSpec, local_path
from tools.vtt import format_vtt, segment_cues, truncate

SPEED_HEADROOM = 1.15  # how much faster than asked `speak` may talk to fit a slot
BISECT_TRIES = 3  # refinements of the fitting speed (each one a synthesis)


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
    text: Text = Field(min_length=1, max_length=5000, description="What the narrator says.")
    voice: str = Field(default="heart", description="Voice name (`heart` ships with the package).")
    speed: float = Field(default=1.0, ge=0.5, le=2.0, description="1.0 is natural pace.")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="Fixes the voice's noise: same seed, same audio.")
    max_seconds: float | None = Field(
        default=None, gt=0, le=600,
        description="A time slot the speech must fit: spoken up to 1.15x faster than `speed` if needed, else refused.",
    )



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
            take = _Take.of(voice, args.text, args.speed, args.seed)
            if args.max_seconds is not None and take.duration > args.max_seconds:
                take = fit_slot(voice, args, take, args.max_seconds)
        params = {"segments": take.segments, "sample_rate": take.rate, "speed": round(take.speed, 4),
                  "voice": args.voice, "seed": args.seed}
        if args.max_seconds is not None:
            params.update(requested_speed=args.speed, max_seconds=args.max_seconds,
                          trimmed_silence=round(take.trimmed / take.rate, 4))
        artifact = Artifact(name="audio", kind="audio", mime="audio/wav", data=encode_wav(take.audio, take.rate),
                            intent=args.text, duration=take.duration, params=params)
        return ToolResult(artifacts=[artifact], values={"duration": take.duration, "speed": params["speed"]},
                          model_id=voice.spec.model_id, model_revision=None)


@dataclass
class _Take:
    """One synthesis: the audio at `speed`, its sentence timings, and how many silent samples were cut."""

    audio: np.ndarray
    segments: list[dict]
    speed: float
    rate: int
    trimmed: int = 0

    @classmethod
    def of(cls, voice: Voice, text: str, speed: float, seed: int) -> _Take:
        audio, segments = voice.speak(text, speed=speed, seed=seed)
        return cls(audio, segments, speed, voice.rate)

    @property
    def duration(self) -> float:
        return len(self.audio) / self.rate

    def fitted(self, slot: float) -> _Take | None:
        """This take cut to `slot` by dropping trailing silence only (below -45 dBFS); None if speech would go."""
        excess = len(self.audio) - int(slot * self.rate)
        if excess <= 0:
            return self
        if excess > trailing_silence(self.audio):
            return None
        end = round(self.duration - excess / self.rate, 3)
        segments = [{**seg, "end": min(seg["end"], end)} for seg in self.segments]
        return _Take(self.audio[:-excess], segments, self.speed, self.rate, excess)


def fit_slot(voice: Voice, args: SpeakInput, natural: _Take, slot: float) -> _Take:
    """The slowest measured take that fits `slot` seconds, at most SPEED_HEADROOM x faster than asked.

    hibari's `speed` does not scale the duration proportionally (1.15x shortens speech by only ~6%),
    so nothing is estimated: the proportional guess is synthesised and measured, then the cap, then
    a few bisections between them. Trailing silence (never speech) may be cut to absorb the rest.
    """
    cap = min(2.0, args.speed * SPEED_HEADROOM)
    guess = min(cap, args.speed * natural.duration / slot)
    first = _Take.of(voice, args.text, guess, args.seed)
    if (best := first.fitted(slot)) is not None:
        return best
    fastest = first if guess >= cap else _Take.of(voice, args.text, cap, args.seed)
    best = fastest.fitted(slot)
    if best is None:
        need = fastest.duration - trailing_silence(fastest.audio) / fastest.rate
        raise ToolError(f"speak: the text needs {need:.2f} s at {cap:.2f}x speed but the slot is {slot:.2f} s "
                        f"(over by {need - slot:.2f} s); shorten the text or widen the slot")
    low = guess
    for _ in range(BISECT_TRIES):
        middle = (low + best.speed) / 2
        take = _Take.of(voice, args.text, middle, args.seed).fitted(slot)
        best, low = (take, low) if take is not None else (best, middle)
    return best


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
        description="Captions, on-screen text and names that go with the audio: the recogniser's prompt, and its "
                    "names and quoted terms its hotwords, so they are heard right.",
    )


@register
class Transcribe(Tool):
    """Transcribe speech in an audio asset: text, segment and word timings, and WebVTT captions.

    faster-whisper, voice-activity filtered; `context` (captions, on-screen text, names) helps it hear names right.
    """

    name = "transcribe"
    input_model = TranscribeInput
    outputs = {"subtitles": "subtitles"}
    model_role = "stt"

    def run(self, args: TranscribeInput, ctx: ToolContext) -> ToolResult:
        view = ctx.asset(args.audio, "audio")
        audio, rate = read_audio(view.path, f"transcribe: audio asset {args.audio}")
        audio = resample(audio, rate, 16000)
        context = args.context.strip() if args.context and args.context.strip() else None
        with ctx.models.use(self.model_role) as model:
            segments, info = model.transcribe(audio, language="en", vad_filter=True, word_timestamps=True,
                                              initial_prompt=context, hotwords=hotwords(context), beam_size=1)
            segments = list(segments)
        spans = [{"text": s.text.strip(), "start": round(s.start, 3), "end": round(s.end, 3)} for s in segments]
        words = [{"word": w.word.strip(), "start": round(w.start, 3), "end": round(w.end, 3),
                  "probability": round(w.probability, 4)} for s in segments for w in (s.words or [])]
        text = " ".join(s["text"] for s in spans).strip()
        duration = len(audio) / 16000
        captions = Artifact(name="subtitles", kind="subtitles", mime="text/vtt", intent=truncate(text, 500),
                            data=format_vtt(segment_cues(spans, 0.0, duration)).encode("utf-8"),
                            duration=duration, params={"context": context})
        return ToolResult(artifacts=[captions],
                          values={"text": text, "segments": spans, "words": words, "language": info.language},
                          model_id=model.spec.model_id)


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
