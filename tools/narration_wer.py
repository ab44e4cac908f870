"""narration_wer: does the narration say its script? Transcribed (whisper, in `tools.engines.stt`) and
scored by word error rate; with no audio given, the script is spoken first (a round trip)."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field, field_validator

from tools.base import Tool, ToolContext, ToolInput, ToolResult, asset_ref
from tools.engines.stt import STT_RATE, clean_context, listen
from tools.media.audio import read_audio, resample
from tools.metrics import normalise, word_errors
from tools.registry import register


class NarrationWerInput(ToolInput):
    text: str = Field(min_length=1, max_length=5000, description="The script the narration should say.")
    audio: Annotated[str | None, asset_ref(
        "audio", "The narration to check (an audio asset id); if left out, the script is spoken with the "
                 "profile's voice first (a round trip)."
    )] = None
    context: str | None = Field(default=None, max_length=1000,
                                description="Names and terms in the script, to help the recogniser hear them.")

    @field_validator("text")
    @classmethod
    def _has_words(cls, value: str) -> str:
        if not normalise(value):
            raise ValueError("has no words to compare (only punctuation or spaces)")
        return value.strip()


@register
class NarrationWer(Tool):
    """Check narration says its script: transcribe the audio (or speak the script first, then transcribe)
    and score the word error rate (0 = every word heard right), with `tools.metrics.normalise` applied to both.
    """

    name = "narration_wer"
    input_model = NarrationWerInput
    outputs = {}
    model_role = "stt"  # the recogniser differs between profiles; the voice (if used) is in the details

    def run(self, args: NarrationWerInput, ctx: ToolContext) -> ToolResult:
        audio, rate, voice_id = self._narration(args, ctx)
        with ctx.models.use(self.model_role) as model:
            segments, _ = listen(model, resample(audio, rate, STT_RATE), clean_context(args.context))
            heard = " ".join(s.text.strip() for s in segments).strip()
        details = word_errors(args.text, heard).as_dict()  # normalised texts and error counts
        values = {"narration_wer": details.pop("wer"), **details, "transcript": heard,
                  "synthesised": voice_id is not None}
        if voice_id is not None:
            values["tts"] = voice_id
        return ToolResult(values=values, model_id=model.spec.model_id)

    def _narration(self, args: NarrationWerInput, ctx: ToolContext) -> tuple[np.ndarray, int, str | None]:
        """The given audio, or the script spoken at natural pace with seed 0 (and the voice's id)."""
        if args.audio is not None:
            view = ctx.asset(args.audio, "audio")
            audio, rate = read_audio(view.path, f"narration_wer: audio asset {args.audio}")
            return audio, rate, None
        with ctx.models.use("tts") as voice:
            audio, _ = voice.speak(args.text, speed=1.0, seed=0)
        return audio, voice.rate, voice.spec.model_id
