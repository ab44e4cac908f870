"""Audio description of one video: on-screen text, dialogue, gaps, described shots, fitted cues,
the description track and mix, the described MP4 and the full-text alternative.

The text on screen (`ocr_video`) is read first: its important lines are read aloud in the gaps
(`tools.narration.onscreen`), shown with their times in the transcript and NAME.onscreen.vtt, and,
quoted, they are the recogniser's visual context (prompt and hotwords) for the whole soundtrack, so a
name both shown and spoken is spelled as shown.

Model work (transcription, captions, the LLM, speech, round trips) runs as steps of the job's run,
so it is recorded with lineage and reused from the tool-call cache on a re-run.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from agent.llm import LLMError
from agent.narrate import checks
from agent.narrate.describe import (
    caption_shots,
    hold_last,
    on_screen_note,
    plain_cue,
    rewrite,
    sample_frames,
    sample_step,
    shots_in,
    split_shots,
)
from agent.narrate.fit import AdCue, fit_cue, word_budget
from agent.narrate.library import check_container
from agent.narrate.sidecar import sidecar_text
from agent.narrate.steps import asset_path, call_tool, import_file
from agent.narrate.types import ItemResult, NarrationContext
from memory import repo
from tools.base import ToolError, one_line
from tools.media.audio import encode_wav, read_audio, resample
from tools.media.mp4 import video_duration
from tools.media.vtt import format_vtt, split_cue
from tools.narration import admix
from tools.narration.gaps import Gap, find_gaps, speech_intervals, vad_intervals
from tools.narration.onscreen import assign_to_gaps, important, on_screen_vtt, read_aloud, visual_context
from tools.narration.transcript import dialogue_lines, transcript_html

SILENT_RATE = 24000  # the description track's rate when the video has no sound of its own


def narrate_video(ctx: NarrationContext, path: Path, index: int, sidecar: dict, *, name: str | None = None,
                  sha256: str | None = None) -> ItemResult:
    """Describe `path` into ctx.out_dir as NAME.ad.vtt, .extended.ad.vtt, .ad.wav, .ad.json, .ad.mp4,
    .transcript.html (and .captions.vtt when there is dialogue); a bad file gives status "failed".

    NAME is `name` (default: the file's stem). `sha256` is the content discovery checked: the stored copy
    must match it, and only that copy is decoded, so a file swapped in the meantime is never read.
    """
    import av

    result = ItemResult(path=str(path), sha256="", kind="video")
    try:
        _narrate(ctx, Path(path), index, sidecar or {}, result, name or Path(path).stem, sha256)
    except (ToolError, LLMError, ValueError, OSError, av.FFmpegError) as exc:
        result.status, result.error = "failed", one_line(f"{Path(path).name}: {exc}", 500)
    return result



def _narrate(ctx: NarrationContext, path: Path, index: int, sidecar: dict, result: ItemResult, name: str,
             sha256: str | None) -> None:
    media, duration, video_id = _checked_copy(ctx, path, index, result, sha256)
    step = sample_step(duration)
    samples, pictures_end = sample_frames(media, duration, step)  # decodes every frame: a truncated file fails
    original, rate, duration = _soundtrack(media, duration, pictures_end)
    samples = hold_last(samples, duration, step)
    original16k = resample(original, rate, 16000)
    ctx.progress(f"{path.name}: reading on-screen text")
    shown = _read_screen(ctx, index, video_id, result)
    context = " ".join(p for p in (visual_context(shown), sidecar_text(sidecar)) if p)[:1000] or None
    ctx.progress(f"{path.name}: transcribing")
    dialogue = _transcribe(ctx, index, original, rate, context)
    speech = speech_intervals(vad_intervals(original16k), dialogue["words"])
    gaps, short = find_gaps(speech, duration, ctx.rt.settings.narration.min_gap_s)
    ctx.progress(f"{path.name}: describing {len(gaps)} gaps")
    cues, missed = _describe_gaps(ctx, index, gaps, split_shots(samples, duration), samples, sidecar, shown)
    cues, wer_warnings = checks.round_trip(ctx, f"i{index}", cues, context)
    result.warnings += wer_warnings + checks.style_warnings(cues)
    ctx.progress(f"{path.name}: mixing")
    mixed = [c for c in cues if not c.extended]
    clips = _deliver(ctx, media, name, cues, dialogue, original, rate, result, shown)
    overlaps = checks.delivered_overlaps(ctx.out_dir / result.outputs["ad_video"], clips, rate,
                                         vad_intervals(original16k))
    result.warnings += overlaps
    result.gaps = {"used": [c.gap.as_dict() | {"cue_start": round(c.start, 3)} for c in mixed],
                   "missed": [g.as_dict() | {"reason": "shorter than the minimum gap"} for g in short] + missed}
    result.scores.update(checks.wer_summary(cues))
    result.scores.update({"cues": float(len(mixed)), "extended_cues": float(len(cues) - len(mixed)),
                          "speech_overlaps": float(len(overlaps))})
    result.wcag = ["1.2.3"] + (["1.2.5"] if mixed else []) + (["1.2.7"] if len(cues) > len(mixed) else [])
    result.data.update(cues=[c.manifest() for c in cues], speech=[[round(s, 3), round(e, 3)] for s, e in speech],
                       dialogue=dialogue["text"], duration=round(duration, 3), on_screen=shown,
                       visual_context=visual_context(shown))


def _checked_copy(ctx: NarrationContext, path: Path, index: int, result: ItemResult,
                  sha256: str | None) -> tuple[Path, float, str]:
    """The stored copy of the video (what every later step decodes), its claimed duration, checked, and
    its asset id."""
    if path.stat().st_size == 0:
        raise ToolError("the file is empty (0 bytes)")
    video_id = import_file(ctx, path, f"i{index}-video", "video")
    with ctx.rt.db.session() as s:
        result.sha256 = repo.get_asset(s, video_id).sha256
    if sha256 and result.sha256 != sha256:
        raise ToolError("the file changed after it was checked; run the job again")
    media = asset_path(ctx, video_id)
    check_container(media)
    duration = video_duration(media, "the video")
    if duration <= 0:
        raise ToolError("the video has no length")
    limit = ctx.rt.settings.narration.max_video_s
    if duration > limit:
        raise ToolError(f"the video is {duration:.0f} s long, over the {limit:g} s limit (narration.max_video_s)")
    return media, duration, video_id


def _read_screen(ctx: NarrationContext, index: int, video_id: str, result: ItemResult) -> list[dict]:
    """The important texts shown ({start, end, text}); a failing OCR is a warning, the video still described."""
    try:
        outcome = call_tool(ctx, f"i{index}-ocr", "ocr_video", {"video": video_id})
    except ToolError as exc:
        result.warnings.append(one_line(f"on-screen text is not read: {exc}", 300))
        return []
    return important(outcome.values.get("segments") or [])


def _soundtrack(path: Path, claimed: float, pictures_end: float) -> tuple[np.ndarray, int, float]:
    """The video's own sound as mono samples, its rate, and the working duration: the claimed one, but no
    longer than the pictures or the sound actually decoded (silence when the video has no sound)."""
    import av

    with av.open(str(path)) as box:
        has_audio = bool(box.streams.audio)
    if not has_audio:
        duration = min(claimed, pictures_end)
        return np.zeros(round(duration * SILENT_RATE), dtype=np.float32), SILENT_RATE, duration
    audio, rate = read_audio(path, "the video's soundtrack")
    duration = min(claimed, max(pictures_end, len(audio) / rate))
    total = round(duration * rate)
    return np.pad(audio[:total], (0, max(0, total - len(audio)))).astype(np.float32), rate, duration


def _transcribe(ctx: NarrationContext, index: int, audio: np.ndarray, rate: int, context: str | None) -> dict:
    if not np.any(np.abs(audio) > 1e-4):
        return {"text": "", "segments": [], "words": [], "subtitles": None}
    with tempfile.TemporaryDirectory(prefix="storyloom-ad-") as tmp:
        wav = Path(tmp) / "soundtrack.wav"
        wav.write_bytes(encode_wav(audio, rate))
        audio_id = import_file(ctx, wav, f"i{index}-soundtrack")
    args = {"audio": audio_id, **({"context": context} if context else {})}
    out = call_tool(ctx, f"i{index}-transcribe", "transcribe", args)
    return {**out.values, "subtitles": out.outputs.get("subtitles")}


def _describe_gaps(ctx, index, gaps, shots, samples, sidecar, shown) -> tuple[list[AdCue], list[dict]]:
    """One fitted cue per gap, the on-screen text it is the first chance to read first; a gap whose cue
    cannot be made is reported missed with the reason."""
    names = [str(n) for n in sidecar.get("cast") or []]
    note = on_screen_note(sidecar)
    read = assign_to_gaps(shown, gaps)
    per_gap = [shots_in(shots, gap, samples) for gap in gaps]
    captions = iter(caption_shots(ctx, f"i{index}", [s for group in per_gap for s in group]))
    cues, missed = [], []
    for n, (gap, in_gap) in enumerate(zip(gaps, per_gap, strict=True)):
        prefix = f"i{index}-g{n}"
        try:
            if not in_gap:
                raise ToolError("no frames in the gap")
            draft = plain_cue([next(captions) for _ in in_gap], in_gap)
            notes = [note if n == 0 else "", read_aloud([t for t in read[n] if t not in note])]
            cue = fit_cue(ctx, prefix, _what_to_say(ctx, gap, draft, names, " ".join(x for x in notes if x)), gap)
        except ToolError as exc:
            missed.append(gap.as_dict() | {"reason": one_line(str(exc), 500)})
            continue
        cues.append(cue)
        if cue.extended:
            missed.append(gap.as_dict() | {"reason": "the description does not fit: extended cue"})
    return cues, missed


def _what_to_say(ctx, gap: Gap, draft: str, names: list[str], note: str) -> str:
    limit = word_budget(gap, ctx.rt.settings.narration.words_per_second)
    # Only a served LLM rewrites: the embedded 135M model takes ~15 s a cue on a CPU and its rewrites of
    # captions seldom pass the style and budget checks, so offline the cleaned captions are the cue.
    served = bool(ctx.rt.settings.llm.base_url)
    text = (rewrite(ctx, draft, limit, names, seed=0) if served else None) or draft
    return f"{note} {text}".strip() if note else text  # on-screen text first: it is what must not be missed


def _deliver(ctx, media: Path, name: str, cues: list[AdCue], dialogue: dict, original: np.ndarray, rate: int,
             result: ItemResult, shown: list[dict]) -> list[tuple[float, np.ndarray]]:
    """Writes the outputs; returns the mixed cues' (start, audio at `rate`) for the check of the delivery."""
    out = ctx.out_dir
    out.mkdir(parents=True, exist_ok=True)
    mixed = [c for c in cues if not c.extended]
    clips = [(c.start, _cue_audio(ctx, c, rate)) for c in mixed]
    alone = admix.place(clips, len(original), rate)
    spans = [(c.start, c.end) for c in mixed]
    track = admix.mix(original, alone, spans, rate, duck_lu=ctx.rt.settings.narration.duck_lu,
                      target_lufs=ctx.rt.settings.narration.target_lufs)
    lines = dialogue_lines(dialogue["words"], dialogue["segments"])
    files = {
        "ad_vtt": (f"{name}.ad.vtt", _vtt(mixed)),
        "extended_ad_vtt": (f"{name}.extended.ad.vtt", _vtt(cues)),
        "ad_manifest": (f"{name}.ad.json", json.dumps({"cues": [c.manifest() for c in cues]}, indent=1)),
        "transcript": (f"{name}.transcript.html", transcript_html(Path(result.path).name, lines,
                                                                  [c.manifest() for c in cues], shown)),
    }
    if shown:
        files["on_screen_vtt"] = (f"{name}.onscreen.vtt", on_screen_vtt(shown))
    for key, (filename, text) in files.items():
        (out / filename).write_text(text, encoding="utf-8")
        result.outputs[key] = filename
    (out / f"{name}.ad.wav").write_bytes(encode_wav(alone, rate))
    result.outputs["ad_audio"] = f"{name}.ad.wav"
    if dialogue.get("subtitles"):
        (out / f"{name}.captions.vtt").write_bytes(asset_path(ctx, dialogue["subtitles"]).read_bytes())
        result.outputs["captions"] = f"{name}.captions.vtt"
    admix.write_described_mp4(media, track, rate, out / f"{name}.ad.mp4")
    result.outputs["ad_video"] = f"{name}.ad.mp4"
    loudness = admix.integrated_lufs(track, rate)
    if np.isfinite(loudness):
        result.scores["ad_mix_lufs"] = round(loudness, 2)
    return clips


def _cue_audio(ctx: NarrationContext, cue: AdCue, rate: int) -> np.ndarray:
    audio, cue_rate = read_audio(asset_path(ctx, cue.audio), f"cue at {cue.start:.2f} s")
    return resample(audio, cue_rate, rate)


def _vtt(cues: list[AdCue]) -> str:
    return format_vtt([part for c in cues for part in split_cue(c.start, c.end, c.text)])
