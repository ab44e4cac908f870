"""Compose a story video: scene images held while their narration plays, plus WebVTT subtitles."""
from __future__ import annotations

import io
import re
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from tools.base import Artifact, Tool, ToolContext, ToolError, ToolInput, ToolResult, asset_ref, register
from tools.media import open_image, read_wav

Cue = tuple[float, float, str]

LINE_CHARS = 42  # the usual subtitle line length limit
CUE_LINES = 2
MAX_TOTAL_SECONDS = 3600.0
INTENT_CHARS = 500
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")


class SceneInput(ToolInput):
    """One scene: a picture, the narration played over it, and the narration's text."""

    image: str = asset_ref("image", "The image shown for the whole scene.")
    audio: str = asset_ref("audio", "The narration clip; the scene lasts exactly as long as this clip.")
    text: str = Field(min_length=1, max_length=5000, description="The narration text, shown as subtitles.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must contain some text, not only whitespace")
        return value


class ComposeStoryInput(ToolInput):
    """Arguments of `compose_story`."""

    scenes: list[SceneInput] = Field(min_length=1, max_length=24, description="The scenes, in playing order.")
    width: int = Field(default=512, ge=64, le=1920, description="Video width in pixels (even).")
    height: int = Field(default=512, ge=64, le=1920, description="Video height in pixels (even).")
    fps: int = Field(default=24, ge=1, le=60, description="Video frames per second.")

    @field_validator("width", "height")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError(f"must be an even number of pixels (H.264 with yuv420p needs it), got {value}")
        return value


@dataclass
class _Scene:
    frame: np.ndarray  # height x width x 3, uint8 RGB
    audio: np.ndarray  # mono float32
    rate: int
    text: str
    segments: Any  # the audio asset's params["segments"], if any

    @property
    def duration(self) -> float:
        return len(self.audio) / self.rate


@register
class ComposeStory(Tool):
    """Assemble a story video: each scene's image is shown while its narration plays; writes an H.264 + AAC MP4 and a WebVTT subtitle file."""  # noqa: E501

    name = "compose_story"
    input_model = ComposeStoryInput
    outputs = {"video": "video", "subtitles": "subtitles"}
    model_role = None

    def run(self, args: ComposeStoryInput, ctx: ToolContext) -> ToolResult:
        scenes = []
        for scene in args.scenes:
            _check_cancelled(ctx.cancelled)
            scenes.append(_load_scene(ctx, scene, args.width, args.height))
        _unify_rates(scenes)
        starts = [float(t) for t in np.cumsum([0.0] + [s.duration for s in scenes])]
        total = starts.pop()
        if total > MAX_TOTAL_SECONDS:
            raise ToolError(f"the narration lasts {total:.0f} s; the limit is {MAX_TOTAL_SECONDS:.0f} s")
        data = _encode_mp4(scenes, args.fps, ctx.cancelled)
        vtt = format_vtt(_story_cues(scenes, starts))
        intent = _truncate(" ".join(s.text.strip() for s in args.scenes), INTENT_CHARS)
        video = Artifact(
            name="video", kind="video", mime="video/mp4", data=data, intent=intent,
            width=args.width, height=args.height, duration=_measure_duration(data, total),
            params={"fps": args.fps, "scenes": len(scenes), "scene_starts": [round(t, 3) for t in starts]},
        )
        subtitles = Artifact(
            name="subtitles", kind="subtitles", mime="text/vtt", data=vtt.encode("utf-8"),
            intent=intent, duration=total,
        )
        return ToolResult(artifacts=[video, subtitles], values={"duration": total})


# --- inputs -------------------------------------------------------------------------------------------------


def _check_cancelled(cancelled: Callable[[], bool]) -> None:
    if cancelled():
        raise ToolError("cancelled")


def _load_scene(ctx: ToolContext, scene: SceneInput, width: int, height: int) -> _Scene:
    image_view = ctx.asset(scene.image, "image")
    audio_view = ctx.asset(scene.audio, "audio")
    try:
        image = open_image(image_view.path)
    except ToolError as exc:
        raise ToolError(f"image asset {scene.image}: {exc}") from None
    try:
        audio, rate = read_wav(audio_view.path)
    except (RuntimeError, OSError, ValueError) as exc:  # soundfile's errors are RuntimeErrors
        raise ToolError(f"audio asset {scene.audio}: cannot read audio: {exc}") from None
    if len(audio) == 0:
        raise ToolError(f"audio asset {scene.audio} is empty (no samples)")
    frame = _fit_image(image, width, height)
    return _Scene(frame, audio.astype(np.float32), rate, scene.text, audio_view.params.get("segments"))


def _fit_image(image, width: int, height: int) -> np.ndarray:
    """The image scaled to fit inside width x height, aspect kept, centred on black."""
    from PIL import Image

    scale = min(width / image.width, height / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    canvas = Image.new("RGB", (width, height))
    offset = ((width - size[0]) // 2, (height - size[1]) // 2)
    canvas.paste(image.resize(size, Image.Resampling.LANCZOS), offset)
    return np.asarray(canvas, dtype=np.uint8)


def _unify_rates(scenes: list[_Scene]) -> None:
    """Resample every clip to the first clip's rate (linear interpolation is plenty for speech)."""
    rate = scenes[0].rate
    for scene in scenes[1:]:
        if scene.rate != rate:
            scene.audio = resample(scene.audio, scene.rate, rate)
            scene.rate = rate


def resample(audio: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Mono audio converted from `src_rate` to `dst_rate` by linear interpolation."""
    count = max(1, round(len(audio) * dst_rate / src_rate))
    positions = np.arange(count) * (src_rate / dst_rate)
    return np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)


# --- video --------------------------------------------------------------------------------------------------


def _encode_mp4(scenes: list[_Scene], fps: int, cancelled: Callable[[], bool]) -> bytes:
    """H.264 (yuv420p) + AAC mono MP4; each image lasts exactly as long as its narration."""
    import av

    height, width = scenes[0].frame.shape[:2]
    rate = scenes[0].rate
    with tempfile.TemporaryDirectory(prefix="storyloom-compose-") as tmp:
        path = Path(tmp) / "story.mp4"
        with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
            video = container.add_stream("libx264", rate=fps)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.time_base = Fraction(1, fps)
            video.options = {"preset": "veryfast", "crf": "23"}
            audio = container.add_stream("aac", rate=rate)
            audio.codec_context.layout = "mono"
            audio.time_base = Fraction(1, rate)
            _write_scenes(container, video, audio, scenes, fps, cancelled)
            for stream in (video, audio):
                container.mux(stream.encode(None))
        return path.read_bytes()


def _write_scenes(container, video, audio, scenes: list[_Scene], fps: int, cancelled) -> None:
    frames_written = samples_written = 0
    end = 0.0
    for index, scene in enumerate(scenes):
        _check_cancelled(cancelled)
        end += scene.duration
        count = round(end * fps) - frames_written
        if index == len(scenes) - 1 and frames_written + count == 0:
            count = 1  # a very short story still gets one picture
        _write_video(container, video, scene.frame, frames_written, count, fps)
        _write_audio(container, audio, scene.audio, samples_written, scene.rate)
        frames_written += count
        samples_written += len(scene.audio)


def _write_video(container, stream, rgb: np.ndarray, first_pts: int, count: int, fps: int) -> None:
    import av

    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    frame.time_base = Fraction(1, fps)
    for pts in range(first_pts, first_pts + count):
        frame.pts = pts
        container.mux(stream.encode(frame))


def _write_audio(container, stream, samples: np.ndarray, first_pts: int, rate: int) -> None:
    import av

    planar = np.ascontiguousarray(samples.reshape(1, -1))
    frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout="mono")
    frame.sample_rate = rate
    frame.time_base = Fraction(1, rate)
    frame.pts = first_pts
    container.mux(stream.encode(frame))


def _measure_duration(data: bytes, fallback: float) -> float:
    """The container's own duration in seconds, read back from the encoded bytes."""
    import av

    with av.open(io.BytesIO(data)) as container:
        if container.duration is None:
            return fallback
        return container.duration / av.time_base


# --- subtitles ----------------------------------------------------------------------------------------------


def _story_cues(scenes: list[_Scene], starts: list[float]) -> list[Cue]:
    """Cues for the whole story: timed segments where the narration has them, else sentence shares."""
    cues: list[Cue] = []
    for scene, start in zip(scenes, starts, strict=True):
        timed = segment_cues(scene.segments, start, scene.duration)
        cues.extend(timed if timed else sentence_cues(scene.text, start, start + scene.duration))
    return cues


def segment_cues(segments: Any, offset: float, duration: float) -> list[Cue]:
    """Cues from `[{"text", "start", "end"}, ...]` (seconds within the clip); [] when unusable."""
    if not isinstance(segments, list):
        return []
    cues: list[Cue] = []
    last_end = 0.0
    try:
        for seg in sorted(segments, key=lambda s: float(s["start"])):
            start = min(max(float(seg["start"]), last_end), duration)
            end = min(float(seg["end"]), duration)
            text = str(seg["text"]).strip()
            if text and end > start:
                cues.extend(split_cue(offset + start, offset + end, text))
                last_end = end
    except (TypeError, ValueError, KeyError):
        return []
    return cues


def sentence_cues(text: str, start: float, end: float) -> list[Cue]:
    """Cues for `text` spread over [start, end], each sentence's share in proportion to its length."""
    sentences = [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]
    return [cue for s, e, t in _share(sentences, start, end) for cue in split_cue(s, e, t)]


def split_cue(start: float, end: float, text: str) -> list[Cue]:
    """`text` wrapped to lines of LINE_CHARS; more than CUE_LINES lines become several cues."""
    lines = textwrap.wrap(" ".join(text.split()), LINE_CHARS, break_long_words=True, break_on_hyphens=False)
    chunks = ["\n".join(lines[i:i + CUE_LINES]) for i in range(0, len(lines), CUE_LINES)]
    return _share(chunks, start, end)


def _share(texts: list[str], start: float, end: float) -> list[Cue]:
    """Split [start, end] among `texts` in proportion to their character counts, ending exactly at end."""
    if not texts:
        return []
    weights = np.cumsum([max(1, len(t)) for t in texts], dtype=float)
    bounds = [start] + [start + (end - start) * w / weights[-1] for w in weights[:-1]] + [end]
    return [(float(bounds[i]), float(bounds[i + 1]), text) for i, text in enumerate(texts)]


def format_vtt(cues: list[Cue]) -> str:
    """A WebVTT document with one numbered cue per (start, end, text)."""
    blocks = ["WEBVTT"]
    for number, (start, end, text) in enumerate(cues, start=1):
        blocks.append(f"{number}\n{vtt_timestamp(start)} --> {vtt_timestamp(end)}\n{_cue_text(text)}")
    return "\n\n".join(blocks) + "\n"


def vtt_timestamp(seconds: float) -> str:
    """Seconds as HH:MM:SS.mmm (3661.5 -> 01:01:01.500)."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _cue_text(text: str) -> str:
    # A blank line ends a cue and "-->" starts a timing line; &, < and > are markup in cue text.
    lines = [line.strip() for line in text.replace("-->", "→").splitlines() if line.strip()]
    escaped = "\n".join(lines).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped or "…"


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
