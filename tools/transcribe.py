"""transcribe: speech to text with segment and word timings and WebVTT captions (the recogniser is in
`tools.engines.stt`)."""
from __future__ import annotations

from pydantic import Field

from tools.base import Artifact, Tool, ToolContext, ToolInput, ToolResult, asset_ref
from tools.engines.stt import STT_RATE, clean_context, listen
from tools.media.audio import read_audio, resample
from tools.media.vtt import format_vtt, segment_cues, truncate
from tools.registry import register


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
    values = frozenset({"text"})
    model_role = "stt"

    def run(self, args: TranscribeInput, ctx: ToolContext) -> ToolResult:
        view = ctx.asset(args.audio, "audio")
        audio, rate = read_audio(view.path, f"transcribe: audio asset {args.audio}")
        audio = resample(audio, rate, STT_RATE)
        context = clean_context(args.context)
        with ctx.models.use(self.model_role) as model:
            segments, info = listen(model, audio, context, word_timestamps=True)
        spans = [{"text": s.text.strip(), "start": round(s.start, 3), "end": round(s.end, 3)} for s in segments]
        words = [{"word": w.word.strip(), "start": round(w.start, 3), "end": round(w.end, 3),
                  "probability": round(w.probability, 4)} for s in segments for w in (s.words or [])]
        text = " ".join(s["text"] for s in spans).strip()
        duration = len(audio) / STT_RATE
        captions = Artifact(name="subtitles", kind="subtitles", mime="text/vtt", intent=truncate(text, 500),
                            data=format_vtt(segment_cues(spans, 0.0, duration)).encode("utf-8"),
                            duration=duration, params={"context": context})
        return ToolResult(artifacts=[captions],
                          values={"text": text, "segments": spans, "words": words, "language": info.language},
                          model_id=model.spec.model_id)
