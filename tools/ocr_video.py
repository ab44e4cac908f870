"""Reading the text on screen in a video: the `ocr_video` tool (titles, signs, lower thirds, slides).

Frames are sampled at the middles of equal spans about `interval` seconds long, never more than
MAX_FRAMES (a long video gets longer spans), in one decoding pass that stops where the pictures end,
whatever the header claims. A sample whose grey thumbnail has no pixel more than CHANGED away from the
last one read reuses that reading instead of running OCR again, so a held title costs one pass (the
largest change, not the mean: a lower third appearing moves a mean by 1 level of 255, a pixel by 100).
Consecutive samples reading the same text become one segment; its times are the edges of the spans
around those samples, so an onset or end is placed within half a span of the truth.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from tools.base import Tool, ToolContext, ToolError, ToolInput, ToolResult, asset_ref
from tools.engines.ocr import MIN_CONFIDENCE
from tools.media.image import MAX_IMAGE_SIDE
from tools.media.keyframes import keyframe_spans
from tools.media.mp4 import check_cancelled
from tools.media.text_layout import layout_values
from tools.registry import register

MAX_FRAMES = 120
THUMB = (128, 72)
CHANGED = 32  # grey levels (0..255) one thumbnail pixel must move by for the picture to count as new
SAME_TEXT = 0.9  # difflib ratio from which two readings are one text (a letter misread in one frame)


class OcrVideoInput(ToolInput):
    video: str = asset_ref("video", "The video to read on-screen text from (a video asset id).")
    interval: float = Field(default=1.0, ge=0.2, le=30.0,
                            description=f"Seconds between sampled frames (at most {MAX_FRAMES} frames are read).")
    min_confidence: float = Field(default=MIN_CONFIDENCE, ge=0.0, le=1.0,
                                  description="Drop pieces of text read with less confidence than this (0..1).")


@register
class OcrVideo(Tool):
    """Read the text shown in a video (OCR of sampled frames): each distinct text with the times it is on screen.

    Values: `text` (each distinct text once, in order of appearance, joined by newlines), `segments`
    ({start, end, text, confidence, lines} in seconds), `samples`, `frames_read` and `interval`.
    """

    name = "ocr_video"
    input_model = OcrVideoInput
    outputs = {}
    model_role = "ocr"

    def run(self, args: OcrVideoInput, ctx: ToolContext) -> ToolResult:
        view = ctx.asset(args.video, "video")
        label = f"video {args.video}"
        readings: list[tuple[tuple[float, float], dict]] = []
        frames_read, last = 0, None
        with ctx.models.use(self.model_role) as reader:
            for span, picture in sample_frames(view.path, args.interval, label):
                check_cancelled(ctx.cancelled)
                thumb = _thumbnail(picture)
                if last is None or np.abs(thumb - last[0]).max() > CHANGED:
                    last = (thumb, layout_values(reader.read(picture, args.min_confidence), *picture.size))
                    frames_read += 1
                readings.append((span, last[1]))
        segments = text_segments(readings)
        return ToolResult(values={
            "text": "\n".join(dict.fromkeys(s["text"] for s in segments)),
            "segments": segments, "samples": len(readings), "frames_read": frames_read,
            "interval": round(readings[0][0][1] - readings[0][0][0], 3),
            "duration": round(readings[-1][0][1], 3),
        }, model_id=reader.spec.model_id, model_revision=reader.version)


def text_segments(readings: list[tuple[tuple[float, float], dict]]) -> list[dict[str, Any]]:
    """Runs of spans reading the same text (empty readings end a run), with the best-read version."""
    segments: list[dict[str, Any]] = []
    for (start, end), values in readings:
        text = values["text"]
        if not text:
            continue
        previous = segments[-1] if segments else None
        if previous and previous["end"] == round(start, 3) and _same_text(previous["text"], text):
            previous["end"] = round(end, 3)
            if (values["confidence"] or 0) > previous["confidence"]:
                previous.update(text=text, confidence=values["confidence"], lines=values["lines"])
            continue
        segments.append({"start": round(start, 3), "end": round(end, 3), "text": text,
                         "confidence": values["confidence"], "lines": values["lines"]})
    return segments


def _same_text(a: str, b: str) -> bool:
    a, b = " ".join(a.casefold().split()), " ".join(b.casefold().split())
    return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= SAME_TEXT


def _thumbnail(picture: Any) -> np.ndarray:
    return np.asarray(picture.convert("L").resize(THUMB), dtype=np.float32)


def sample_frames(path: Path, interval: float, label: str) -> Iterator[tuple[tuple[float, float], Any]]:
    """(span, RGB PIL image of the frame on screen at the span's middle), decoding once, front to back."""
    import av

    if path.stat().st_size == 0:
        raise ToolError(f"{label} is empty (0 bytes)")
    try:
        with av.open(str(path)) as box:
            stream = _video_stream(box, label)
            duration = _duration(box, stream, label)
            spans = keyframe_spans(duration, min(MAX_FRAMES, max(1, round(duration / interval))))
            ends = yield from _pick(box, stream, spans)
    except av.FFmpegError as exc:
        raise ToolError(f"cannot decode {label}: {exc.strerror or exc}") from None
    if ends is None:
        raise ToolError(f"{label} has no decodable frames")
    if ends < sum(spans[0]) / 2:
        raise ToolError(f"{label}: its pictures end at {ends:.2f} s but its header claims {duration:.2f} s")


def _video_stream(box: Any, label: str) -> Any:
    if not box.streams.video:
        raise ToolError(f"{label} has no video stream")
    stream = box.streams.video[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if max(width, height) > MAX_IMAGE_SIDE:
        raise ToolError(f"{label} is {width}x{height}; the limit is {MAX_IMAGE_SIDE} px a side")
    return stream


def _duration(box: Any, stream: Any, label: str) -> float:
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    elif box.duration:  # the container's duration is in microseconds
        seconds = box.duration / 1_000_000
    else:
        raise ToolError(f"{label} has no known duration")
    if seconds <= 0:
        raise ToolError(f"{label} has no length")
    return seconds


def _pick(box: Any, stream: Any, spans: list[tuple[float, float]]) -> Iterator[tuple[tuple[float, float], Any]]:
    """The frame on screen at each span's middle. Spans whose middle comes after the pictures end are
    dropped (a header may claim hours for a second of pictures). Returns when the pictures end (None
    when no frame decodes)."""
    origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    frame_s = 1 / float(stream.average_rate) if stream.average_rate else 0.0
    done, shown, t = 0, None, 0.0
    for frame in box.decode(stream):
        t = (frame.time or 0.0) - origin
        while done < len(spans) and t > sum(spans[done]) / 2 + 1e-6:
            yield spans[done], (shown or frame).to_image()  # the frame before this one was on screen
            done += 1
        if done == len(spans):
            return t
        shown = frame
    if shown is None:
        return None
    ends = t + frame_s
    while done < len(spans) and sum(spans[done]) / 2 <= ends + 1e-6:  # the last frame is still on screen
        yield spans[done], shown.to_image()
        done += 1
    return ends
