"""Transcript and captions for an audio file (WCAG 2.2 success criterion 1.2.1, audio-only prerecorded).

The `transcribe` tool (faster-whisper, voice-activity filtered) hears it; the sidecar's names and
text are its context, so names in the library are spelled as the library spells them.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from agent.narrate.library import Item
from agent.narrate.sidecar import sidecar_text
from agent.narrate.steps import asset_path, call_tool, import_file
from agent.narrate.types import ItemResult, NarrationContext


def narrate_audio(ctx: NarrationContext, item: Item) -> ItemResult:
    """Writes NAME.transcript.txt and NAME.vtt next to where the file sits in the library."""
    result = ItemResult(path=str(item.path), sha256=item.sha256, kind="audio", wcag=["1.2.1"])
    asset = import_file(ctx, item.path, f"a{item.index}-input", "audio")
    args = {"audio": asset}
    if sidecar_text(item.sidecar):
        args["context"] = sidecar_text(item.sidecar)
    outcome = call_tool(ctx, f"a{item.index}-transcribe", "transcribe", args)
    text = str(outcome.values.get("text", "")).strip()
    base = ctx.out_dir / (item.base or Path(item.rel).with_suffix("").as_posix())  # NAME.vtt, unique per item
    base.parent.mkdir(parents=True, exist_ok=True)
    transcript = base.with_name(base.name + ".transcript.txt")
    transcript.write_text(text + "\n", encoding="utf-8")
    vtt = base.with_name(base.name + ".vtt")
    shutil.copyfile(asset_path(ctx, outcome.outputs["subtitles"]), vtt)
    result.outputs = {"transcript": transcript.relative_to(ctx.out_dir).as_posix(),
                      "captions": vtt.relative_to(ctx.out_dir).as_posix()}
    segments = outcome.values.get("segments") or []
    result.data = {"transcript": text, "segments": len(segments),
                   "speech_seconds": round(sum(s["end"] - s["start"] for s in segments), 2)}
    if not text:
        result.warnings.append("no speech was heard: the transcript is empty")
    return result
