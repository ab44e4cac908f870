"""Keyframes of a video: evenly spaced spans, the frame on screen in the middle of each (one decoding
pass), and captions merged into segments over those spans. Used by the captioning and scoring tools."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.base import ToolError


def keyframe_spans(duration: float, n: int) -> list[tuple[float, float]]:
    """`n` equal spans covering 0..duration; each span's keyframe is taken at its middle."""
    step = duration / n
    return [(i * step, duration if i == n - 1 else (i + 1) * step) for i in range(n)]


def merge_segments(spans: list[tuple[float, float]], captions: list[str]) -> list[dict[str, Any]]:
    """One segment per run of equal captions; an empty caption extends its neighbour's span, so the
    segments still cover the whole video in order, without gaps or overlaps."""
    segments: list[dict[str, Any]] = []
    for (start, end), caption in zip(spans, captions, strict=True):
        if segments and (not caption or caption == segments[-1]["caption"]):
            segments[-1]["end"] = round(end, 3)
        elif caption:  # the first segment also covers any empty spans before it
            first = start if segments else spans[0][0]
            segments.append({"start": round(first, 3), "end": round(end, 3), "caption": caption})
    return segments


def sample_keyframes(path: Path, n: int, name: str = "") -> tuple[float, list[Any]]:
    """The video's duration in seconds and `n` RGB frames taken at the middles of `keyframe_spans`.

    Any decoding failure (empty, truncated or non-video file) becomes a ToolError naming the asset.
    """
    import av

    label = name or path.name
    if path.stat().st_size == 0:
        raise ToolError(f"video {label} is empty (0 bytes)")
    try:
        with av.open(str(path)) as box:
            if not box.streams.video:
                raise ToolError(f"video {label} has no video stream")
            stream = box.streams.video[0]
            duration = _duration(box, stream)
            if not duration or duration <= 0:
                raise ToolError(f"video {label} has no known duration")
            times = [(a + b) / 2 for a, b in keyframe_spans(duration, n)]
            frames = _frames_at(box, stream, times)
    except av.error.FFmpegError as exc:
        raise ToolError(f"cannot decode video {label}: {exc.strerror or exc}") from None
    if not frames:
        raise ToolError(f"video {label} has no decodable frames")
    return duration, frames


def _duration(box, stream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if box.duration:  # the container's duration is in microseconds
        return box.duration / 1_000_000
    return None


def _frames_at(box, stream, times: list[float]) -> list[Any]:
    """The frame on screen at each time (the last one shown at or before it), in one decoding pass.

    One pass decodes the whole clip, which is cheap for the short clips this project makes; seeking
    to each time would be the change to make for long uploads.
    """
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    picked: list[Any] = []
    shown = None
    for frame in box.decode(stream):
        t = (frame.time or 0.0) - start
        while len(picked) < len(times) and t > times[len(picked)] + 1e-6:
            # the frame shown before this one covers the time (or this one, if none came before)
            picked.append((frame if shown is None else shown).to_image())
        if len(picked) == len(times):
            break
        shown = frame
    if shown is not None:  # times after the last frame starts (durations are rounded up)
        picked += [shown.to_image()] * (len(times) - len(picked))
    return picked
