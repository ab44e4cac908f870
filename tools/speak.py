"""speak: text-to-speech narration, fitted into a time slot when asked (the voice is in `tools.engines.tts`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field

from tools.base import Artifact, Seed, Text, Tool, ToolContext, ToolError, ToolInput, ToolResult
from tools.engines.tts import Voice, installed_voices
from tools.media.audio import encode_wav, trailing_silence
from tools.registry import register

SPEED_HEADROOM = 1.15  # how much faster than asked `speak` may talk to fit a slot
BISECT_TRIES = 3  # refinements of the fitting speed (each one a synthesis)


class SpeakInput(ToolInput):
    text: Text = Field(min_length=1, max_length=5000, description="What the narrator says.")
    voice: str = Field(default="heart", description="Voice name (`heart` ships with the package).")
    speed: float = Field(default=1.0, ge=0.5, le=2.0, description="1.0 is natural pace.")
    seed: Seed = Field(default=0, description="Fixes the voice's noise: same seed, same audio.")
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
