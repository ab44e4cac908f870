"""The critic's checks on audio description cues: off speech, heard right, written right.

- Off speech, checked on what is DELIVERED: the description track is decoded back from the written
  NAME.ad.mp4, each mixed cue's own audio is found in it by normalised cross-correlation (so a cue
  placed, muxed or encoded at the wrong time is found where it really plays, or not found at all),
  and the span where it plays is held against the speech that VAD finds in the ORIGINAL soundtrack.
  VAD on the mix itself cannot tell the dialogue from the descriptions (both are speech), and on the
  ducked programme the 10+ LU drop can push dialogue under the VAD's threshold exactly where an
  overlap would be; the original is the programme's speech before ducking, at the same times.
- Heard right: each cue's own audio goes through the `narration_wer` tool (whisper back to text,
  normalised WER). A cue over the limit is spoken once more, slower; if it still fails it is flagged.
- Written right: `style_problems` on every cue text.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from agent.narrate.fit import AdCue, respeak_slower
from agent.narrate.steps import call_tool
from agent.narrate.types import NarrationContext
from tools.base import ToolError
from tools.media.audio import resample
from tools.narration.gaps import Interval, overlaps
from tools.narration.style import style_problems

SLOWER = 0.9
OVERLAP_TOLERANCE_S = 0.05  # VAD frames are 32 ms; less than that is measurement noise
SEARCH_S = 2.0  # how far from its planned start a cue is looked for in the delivered track
MIN_MATCH = 0.5  # normalised correlation below this: the cue's audio is not in the track


def delivered_overlaps(mp4: Path, clips: list[tuple[float, np.ndarray]], clip_rate: int,
                       speech: list[Interval]) -> list[str]:
    """Warnings for the mixed cues (planned start, audio at `clip_rate`) as they play in `mp4`'s description
    track."""
    track, rate = description_track(mp4)
    clips = [(start, resample(audio, clip_rate, rate)) for start, audio in clips]
    return placement_problems(track, rate, clips, speech)


def placement_problems(track: np.ndarray, rate: int, clips: list[tuple[float, np.ndarray]],
                       speech: list[Interval]) -> list[str]:
    """One warning per cue not found in `track` or found playing over `speech` (clips at `rate`)."""
    warnings = []
    for planned, audio in clips:
        found, match = locate(track, audio, planned, rate)
        if found is None or match < MIN_MATCH:
            warnings.append(f"cue at {planned:.2f} s is not in the delivered description track")
            continue
        span = (found, found + len(audio) / rate)
        warnings += [f"cue at {planned:.2f} s plays at {span[0]:.2f}-{span[1]:.2f} s in the delivered track, "
                     f"over speech at {s:.2f}-{e:.2f} s" for s, e in speech
                     if overlaps(span, (s, e), OVERLAP_TOLERANCE_S)]
    return warnings


def locate(track: np.ndarray, clip: np.ndarray, planned: float, rate: int,
           search_s: float = SEARCH_S) -> tuple[float | None, float]:
    """(seconds where `clip` starts in `track`, normalised correlation there) within `search_s` of
    `planned`; (None, 0) for a silent clip or one that does not fit in the track."""
    clip = np.asarray(clip, dtype=np.float64)
    norm = float(np.linalg.norm(clip))
    lo = max(0, round((planned - search_s) * rate))
    seg = np.asarray(track[lo:round((planned + search_s) * rate) + len(clip)], dtype=np.float64)
    if norm == 0 or len(seg) < len(clip) or len(clip) == 0:
        return None, 0.0
    size = 1 << int(np.ceil(np.log2(len(seg) + len(clip))))
    corr = np.fft.irfft(np.fft.rfft(seg, size) * np.conj(np.fft.rfft(clip, size)), size)[:len(seg) - len(clip) + 1]
    energy = np.concatenate([[0.0], np.cumsum(seg * seg)])
    window = np.sqrt(np.maximum(energy[len(clip):] - energy[:len(seg) - len(clip) + 1], 0.0))
    ncc = corr / (window * norm + 1e-12)
    best = int(np.argmax(ncc))
    return (lo + best) / rate, float(ncc[best])


def description_track(mp4: Path) -> tuple[np.ndarray, int]:
    """The audio-description track of `mp4` (disposition visual_impaired, else its last audio stream) as
    mono samples placed at their presentation times, and its rate."""
    import av
    from av.stream import Disposition

    try:
        with av.open(str(mp4)) as box:
            streams = list(box.streams.audio)
            if not streams:
                raise ToolError(f"{mp4.name} has no audio track")
            stream = next((s for s in streams if s.disposition & Disposition.visual_impaired), streams[-1])
            rate = stream.codec_context.sample_rate
            mono = av.AudioResampler(format="fltp", layout="mono", rate=rate)
            first, chunks = None, []
            for frame in box.decode(stream):
                first = frame.time if first is None else first
                chunks += [f.to_ndarray()[0] for f in mono.resample(frame)]
            chunks += [f.to_ndarray()[0] for f in mono.resample(None)]
    except av.FFmpegError as exc:
        raise ToolError(f"cannot decode the description track of {mp4.name}: {exc}") from None
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    shift = round((first or 0.0) * rate)  # encoder priming or a late first packet: keep samples at their times
    audio = np.concatenate([np.zeros(shift, np.float32), audio]) if shift > 0 else audio[-shift:]
    return audio.astype(np.float32), rate


def cue_wer(ctx: NarrationContext, step_id: str, cue: AdCue, context: str | None) -> float:
    args = {"text": cue.text, "audio": cue.audio, **({"context": context[:1000]} if context else {})}
    return float(call_tool(ctx, step_id, "narration_wer", args).values["narration_wer"])


def round_trip(ctx: NarrationContext, prefix: str, cues: list[AdCue], context: str | None) -> tuple[list[AdCue],
                                                                                                    list[str]]:
    """Every cue's round-trip WER recorded in its checks; failing cues re-spoken slower once, then flagged."""
    limit = ctx.rt.settings.narration.max_cue_wer
    checked, warnings = [], []
    for n, cue in enumerate(cues):
        try:
            score = cue_wer(ctx, f"{prefix}-c{n}-wer", cue, context)
            if score > limit and (slower := respeak_slower(ctx, f"{prefix}-c{n}", cue, SLOWER * cue.speed)):
                again = cue_wer(ctx, f"{prefix}-c{n}-wer2", slower, context)
                cue, score = (slower, again) if again < score else (cue, score)
        except ToolError as exc:
            warnings.append(f"cue at {cue.start:.2f} s: round trip not checked: {exc}")
            checked.append(cue)
            continue
        cue.checks["wer"] = round(score, 4)
        if score > limit:
            cue.checks["flagged"] = True
            warnings.append(f"cue at {cue.start:.2f} s comes back from speech recognition with WER {score:.0%} "
                            f"(allowed {limit:.0%}): {cue.text!r}")
        checked.append(cue)
    return checked, warnings


def style_warnings(cues: list[AdCue]) -> list[str]:
    return [f"cue at {c.start:.2f} s: {problem}" for c in cues for problem in style_problems(c.text)]


def wer_summary(cues: list[AdCue]) -> dict[str, float]:
    values = [c.checks["wer"] for c in cues if "wer" in c.checks]
    if not values:
        return {}
    return {"cue_wer_max": round(max(values), 4), "cue_wer_mean": round(float(np.mean(values)), 4),
            "cues_over_wer": float(sum(c.checks.get("flagged", False) for c in cues))}
