"""MP4 writing (H.264 + AAC, or video only for generated clips) and video clip reading; no model code here."""
from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from tools.base import ToolError, ToolInput


def check_cancelled(cancelled: Callable[[], bool]) -> None:
    if cancelled():
        raise ToolError("cancelled")


def even_pixels(value: int) -> int:
    """Validator body for video sides: H.264 with yuv420p needs an even number of pixels."""
    if value % 2:
        raise ValueError(f"must be an even number of pixels (H.264 with yuv420p needs it), got {value}")
    return value


def frame_counts(durations: list[float], fps: int) -> list[int]:
    """Frames per part, rounded on the running total so the parts add up to round(total * fps)."""
    counts, written, end = [], 0, 0.0
    for duration in durations:
        end += duration
        counts.append(round(end * fps) - written)
        written += counts[-1]
    if written == 0:
        counts[-1] = 1  # a very short video still gets one picture
    return counts


class Mp4Writer:
    """Frames and samples in, in playing order: H.264 yuv420p at a constant fps and mono AAC."""

    def __init__(self, container, width: int, height: int, fps: int, rate: int):
        self.container, self.fps, self.rate = container, fps, rate
        self.video = container.add_stream("libx264", rate=fps)
        self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
        self.video.time_base = Fraction(1, fps)
        self.video.options = {"preset": "veryfast", "crf": "23"}
        self.audio = container.add_stream("aac", rate=rate)
        self.audio.codec_context.layout = "mono"
        self.audio.time_base = Fraction(1, rate)
        self.frames = self.samples = 0

    def add_frames(self, rgb: np.ndarray, count: int = 1) -> None:
        """`count` frames showing the height x width x 3 uint8 picture `rgb`."""
        import av

        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.time_base = Fraction(1, self.fps)
        for _ in range(count):
            frame.pts = self.frames
            self.container.mux(self.video.encode(frame))
            self.frames += 1

    def add_audio(self, samples: np.ndarray) -> None:
        """Mono float samples in [-1, 1], appended after the ones already written."""
        import av

        if len(samples) == 0:
            return
        planar = np.ascontiguousarray(np.asarray(samples, dtype=np.float32).reshape(1, -1))
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout="mono")
        frame.sample_rate = self.rate
        frame.time_base = Fraction(1, self.rate)
        frame.pts = self.samples
        self.container.mux(self.audio.encode(frame))
        self.samples += len(samples)

    def flush(self) -> None:
        for stream in (self.video, self.audio):
            self.container.mux(stream.encode(None))


def encode_mp4(width: int, height: int, fps: int, rate: int, write: Callable[[Mp4Writer], None]) -> bytes:
    """The MP4 bytes of whatever `write` adds to a fresh Mp4Writer (encoded through a temp file)."""
    import av

    with tempfile.TemporaryDirectory(prefix="storyloom-mp4-") as tmp:
        path = Path(tmp) / "out.mp4"
        with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
            writer = Mp4Writer(container, width, height, fps, rate)
            write(writer)
            writer.flush()
        return path.read_bytes()


def encode_frames_mp4(frames: list[Any], fps: int) -> bytes:
    """PIL frames as an H.264 (yuv420p) MP4 at exactly `fps`, video only; an odd side loses its last
    pixel row or column, since yuv420p halves the colour resolution and needs even sides."""
    import av

    if not frames:
        raise ValueError("no frames to encode")
    width, height = frames[0].width // 2 * 2, frames[0].height // 2 * 2
    # The mp4 muxer seeks back to write its index and +faststart rewrites the file: write a real file.
    with tempfile.TemporaryDirectory(prefix="storyloom-video-") as tmp:
        path = Path(tmp) / "clip.mp4"
        with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.time_base = Fraction(1, fps)
            stream.options = {"preset": "veryfast", "crf": "20"}
            for pts, image in enumerate(frames):
                rgb = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:height, :width])
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts, frame.time_base = pts, Fraction(1, fps)
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        return path.read_bytes()


def measure_duration(data: bytes, fallback: float) -> float:
    """The container's own duration in seconds, read back from the encoded bytes."""
    import av

    with av.open(io.BytesIO(data)) as container:
        if container.duration is None:
            return fallback
        return container.duration / av.time_base


def fit_image(image, width: int, height: int) -> np.ndarray:
    """A PIL image scaled to fit inside width x height, aspect kept, centred on black (letterbox)."""
    from PIL import Image

    if image.size == (width, height):
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
    scale = min(width / image.width, height / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    canvas = Image.new("RGB", (width, height))
    offset = ((width - size[0]) // 2, (height - size[1]) // 2)
    canvas.paste(image.convert("RGB").resize(size, Image.Resampling.LANCZOS), offset)
    return np.asarray(canvas, dtype=np.uint8)


def video_duration(path: Path, label: str) -> float:
    """Seconds of the first video stream (ToolError naming `label` when unreadable)."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ToolError(f"{label} has no video stream")
            stream = container.streams.video[0]
            if stream.duration is not None and stream.time_base:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / av.time_base
            return sum(1 for _ in container.decode(stream)) / float(stream.average_rate or 24)
    except av.FFmpegError as exc:
        raise ToolError(f"{label}: cannot read video: {exc}") from None


def clip_frames(path: Path, label: str, fps: int, width: int, height: int, count: int) -> Iterator[np.ndarray]:
    """`count` letterboxed frames at `fps` from the clip: each output instant shows the source frame
    on screen then (constant-rate resampling); past the clip's end its last frame is held."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            timed = _timed_frames(container.decode(stream), stream)
            shown, upcoming = None, next(timed, None)
            if upcoming is None:
                raise ToolError(f"{label}: the clip has no decodable frames")
            for index in range(count):
                now = index / fps + 1e-6
                while upcoming is not None and upcoming[0] <= now:
                    shown = fit_image(upcoming[1].to_image(), width, height)
                    upcoming = next(timed, None)
                yield shown
    except av.FFmpegError as exc:
        raise ToolError(f"{label}: cannot decode video: {exc}") from None


def _timed_frames(frames, stream) -> Iterator[tuple[float, object]]:
    """(seconds since the first frame, frame) for each decoded frame."""
    rate = float(stream.average_rate or 24)
    first = None
    for index, frame in enumerate(frames):
        t = float(frame.time) if frame.time is not None else index / rate
        first = t if first is None else first
        yield t - first, frame


class FrameInput(ToolInput):
    """Output frame size and rate shared by the compositors (H.264 with yuv420p needs even sides)."""

    width: int = Field(default=512, ge=64, le=1920, description="Video width in pixels (even).")
    height: int = Field(default=512, ge=64, le=1920, description="Video height in pixels (even).")
    fps: int = Field(default=24, ge=1, le=60, description="Video frames per second.")

    @field_validator("width", "height")
    @classmethod
    def _even(cls, value: int) -> int:
        return even_pixels(value)
