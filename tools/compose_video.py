"""compose_video: a video of stills with a slow pan/zoom or video clips, narration, subtitles, a ducked soundtrack.

Audio is written as mono AAC: narration is mono, and a stereo soundtrack is folded down; one
channel keeps the mix (and the ducking test) simple at no loss for speech. Clips' own audio is not
used: generated clips have none, and the narration is the voice of the video.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from tools.base import Artifact, Tool, ToolContext, ToolError, ToolInput, ToolResult, asset_ref
from tools.media.audio import duck_gain, looped, read_audio, resample
from tools.media.image import open_image
from tools.media.mp4 import (
    FrameInput,
    Mp4Writer,
    check_cancelled,
    clip_frames,
    encode_mp4,
    fit_image,
    frame_counts,
    measure_duration,
    video_duration,
)
from tools.media.vtt import format_vtt, narration_cues, truncate
from tools.registry import register

Motion = Literal["none", "zoom_in", "zoom_out", "pan_left", "pan_right"]
ZOOM = 0.9  # the tight end of a zoom (and the window of a pan): 90% of the frame
STILL_SECONDS = 3.0
DEFAULT_RATE = 24000  # audio rate when nothing is narrated and there is no soundtrack
MAX_TOTAL_SECONDS = 3600.0
INTENT_CHARS = 500


class Shot(ToolInput):
    """One shot: a still or a clip, with optional narration and subtitle text."""

    image: Annotated[str | None, asset_ref("image", "A still shown for the whole shot (or give `clip`).")] = None
    clip: Annotated[str | None, asset_ref("video", "A video clip played in the shot (or give `image`).")] = None
    narration: Annotated[str | None, asset_ref("audio", "Narration played from the shot's start.")] = None
    text: str | None = Field(default=None, max_length=5000, description="Subtitle text for the shot.")
    seconds: float | None = Field(
        default=None, gt=0, le=600,
        description="How long the shot lasts; default: the narration's length, else the clip's, else 3 s.",
    )
    motion: Motion = Field(default="zoom_in", description="Slow camera move over a still (ignored for clips).")

    @model_validator(mode="after")
    def _one_picture(self) -> Shot:
        if (self.image is None) == (self.clip is None):
            got = "both" if self.image else "neither"
            raise ValueError(f"a shot shows exactly one of `image` or `clip`; this one has {got}")
        return self


class ComposeVideoInput(FrameInput):
    """Arguments of `compose_video`."""

    shots: list[Shot] = Field(min_length=1, max_length=48, description="The shots, in playing order.")
    soundtrack: Annotated[
        str | None, asset_ref("audio", "Music or ambience under everything, looped or cut to the video's length.")
    ] = None
    duck_db: float = Field(default=12.0, ge=3, le=30, description="How many dB the soundtrack drops under narration.")


@dataclass
class _Shot:
    label: str  # "shots.2": the argument path, for messages
    args: Shot
    picture: Any = None  # PIL image of a still
    clip_path: Any = None
    clip_seconds: float | None = None
    narration: np.ndarray | None = None  # mono float32 at the video's audio rate
    rate: int = DEFAULT_RATE
    segments: Any = None  # the narration asset's params["segments"], if any

    @property
    def narration_seconds(self) -> float:
        return 0.0 if self.narration is None else len(self.narration) / self.rate

    @property
    def seconds(self) -> float:
        if self.args.seconds is not None:
            return self.args.seconds
        if self.narration is not None:
            return self.narration_seconds
        return self.clip_seconds if self.clip_seconds is not None else STILL_SECONDS


@register
class ComposeVideo(Tool):
    """Assemble a video from stills (with a slow pan/zoom) or clips, plus narration audio and WebVTT subtitles; optionally mixed under an existing soundtrack, which is ducked under the narration."""  # noqa: E501

    name = "compose_video"
    input_model = ComposeVideoInput
    outputs = {"video": "video", "subtitles": "subtitles"}
    model_role = None

    def run(self, args: ComposeVideoInput, ctx: ToolContext) -> ToolResult:
        shots = [_load_shot(ctx, f"shots.{i}", shot) for i, shot in enumerate(args.shots)]
        track = _load_soundtrack(ctx, args.soundtrack)
        rate = _unify_rates(shots, track)
        music = None if track is None else resample(track[0], track[1], rate)
        starts = [float(t) for t in np.cumsum([0.0] + [_checked_seconds(s) for s in shots])]
        total = starts.pop()
        if total > MAX_TOTAL_SECONDS:
            raise ToolError(f"compose_video: the shots last {total:.0f} s; the limit is {MAX_TOTAL_SECONDS:.0f} s")
        mix = _Mixer(shots, starts, music, rate, args.duck_db)
        data = encode_mp4(args.width, args.height, args.fps, rate,
                          lambda writer: _write_shots(writer, shots, mix, args, ctx))
        cues = [cue for shot, start in zip(shots, starts, strict=True) for cue in _shot_cues(shot, start)]
        texts = " ".join(s.args.text.strip() for s in shots if s.args.text)
        intent = truncate(texts or f"a video of {len(shots)} shots", INTENT_CHARS)
        params = {"fps": args.fps, "shots": len(shots), "shot_starts": [round(t, 3) for t in starts],
                  "shot_seconds": [round(s.seconds, 3) for s in shots], "motions": [_motion(s) for s in shots],
                  "soundtrack": args.soundtrack, "duck_db": args.duck_db, "audio": {"channels": 1, "sample_rate": rate}}
        video = Artifact(name="video", kind="video", mime="video/mp4", data=data, intent=intent, width=args.width,
                         height=args.height, duration=measure_duration(data, total), params=params)
        subtitles = Artifact(name="subtitles", kind="subtitles", mime="text/vtt", intent=intent, duration=total,
                             data=format_vtt(cues).encode("utf-8"))
        return ToolResult(artifacts=[video, subtitles],
                          values={"duration": total, "shot_starts": params["shot_starts"]})


# --- inputs -------------------------------------------------------------------------------------------------


def _load_shot(ctx: ToolContext, label: str, shot: Shot) -> _Shot:
    check_cancelled(ctx.cancelled)
    loaded = _Shot(label=label, args=shot)
    if shot.image is not None:
        view = ctx.asset(shot.image, "image")
        try:
            loaded.picture = open_image(view.path)
        except ToolError as exc:
            raise ToolError(f"{label}: image asset {shot.image}: {exc}") from None
    else:
        view = ctx.asset(shot.clip, "video")
        loaded.clip_path = view.path
        loaded.clip_seconds = video_duration(view.path, f"{label}: clip asset {shot.clip}")
    if shot.narration is not None:
        view = ctx.asset(shot.narration, "audio")
        loaded.narration, loaded.rate = read_audio(view.path, f"{label}: narration asset {shot.narration}")
        loaded.segments = view.params.get("segments")
    return loaded


def _load_soundtrack(ctx: ToolContext, asset_id: str | None) -> tuple[np.ndarray, int] | None:
    if asset_id is None:
        return None
    return read_audio(ctx.asset(asset_id, "audio").path, f"soundtrack asset {asset_id}")


def _unify_rates(shots: list[_Shot], track: tuple[np.ndarray, int] | None) -> int:
    """One audio rate for the video (the first narration's, else the soundtrack's); narrations resampled."""
    narrated = [s for s in shots if s.narration is not None]
    rate = narrated[0].rate if narrated else (track[1] if track else DEFAULT_RATE)
    for shot in shots:
        if shot.narration is not None and shot.rate != rate:
            shot.narration = resample(shot.narration, shot.rate, rate)
        shot.rate = rate
    return rate


def _checked_seconds(shot: _Shot) -> float:
    over = shot.narration_seconds - shot.seconds
    if over > 5e-4:
        raise ToolError(
            f"{shot.label}: the narration lasts {shot.narration_seconds:.2f} s but the shot is {shot.seconds:.2f} s "
            f"(over by {over:.2f} s); raise `seconds` or shorten the narration"
        )
    return shot.seconds


def _motion(shot: _Shot) -> str:
    return "clip" if shot.clip_path is not None else shot.args.motion


def _shot_cues(shot: _Shot, start: float):
    if not shot.args.text or not shot.args.text.strip():
        return []
    span = shot.narration_seconds if shot.narration is not None else shot.seconds
    return narration_cues(shot.args.text, shot.segments, start, span)


# --- pictures and sound -------------------------------------------------------------------------------------


def _write_shots(writer: Mp4Writer, shots: list[_Shot], mix: _Mixer, args: ComposeVideoInput, ctx) -> None:
    counts = frame_counts([s.seconds for s in shots], args.fps)
    for index, (shot, count) in enumerate(zip(shots, counts, strict=True)):
        check_cancelled(ctx.cancelled)
        if shot.clip_path is not None:
            frames = clip_frames(shot.clip_path, f"{shot.label}: clip asset {shot.args.clip}", args.fps,
                                 args.width, args.height, count)
        elif shot.args.motion == "none":
            writer.add_frames(fit_image(shot.picture, args.width, args.height), count)
            frames = iter(())
        else:
            frames = ken_burns(shot.picture, shot.args.motion, args.width, args.height, count)
        for frame in frames:
            writer.add_frames(frame)
        writer.add_audio(mix.shot(index))


def ken_burns(image, motion: Motion, width: int, height: int, count: int) -> Iterator[np.ndarray]:
    """`count` frames of a crop window sliding linearly over the letterboxed still, resized to the output.

    zoom_in: the whole frame to its central ZOOM share; zoom_out: the reverse; pan_left / pan_right:
    a ZOOM-sized window travelling from the right edge to the left (or left to right).
    """
    from PIL import Image

    # Letterbox once onto a canvas 1/ZOOM larger than the output, so the tightest window is still
    # sampled at full output resolution; each frame is then one bilinear resize of a float box.
    cw, ch = round(width / ZOOM), round(height / ZOOM)
    canvas = Image.fromarray(fit_image(image, cw, ch))
    for i in range(count):
        p = i / (count - 1) if count > 1 else 0.0
        share = {"zoom_in": 1 - (1 - ZOOM) * p, "zoom_out": ZOOM + (1 - ZOOM) * p}.get(motion, ZOOM)
        cx = {"pan_left": 1 - ZOOM / 2 - (1 - ZOOM) * p, "pan_right": ZOOM / 2 + (1 - ZOOM) * p}.get(motion, 0.5)
        box = ((cx - share / 2) * cw, (0.5 - share / 2) * ch, (cx + share / 2) * cw, (0.5 + share / 2) * ch)
        yield np.asarray(canvas.resize((width, height), Image.Resampling.BILINEAR, box=box), dtype=np.uint8)


class _Mixer:
    """Each shot's stretch of the soundtrack mix: narration at the shot's start, music ducked under it."""

    def __init__(self, shots: list[_Shot], starts: list[float], track: np.ndarray | None, rate: int,
                 duck_db: float):
        self.shots, self.track, self.rate, self.duck_db = shots, track, rate, duck_db
        ends = np.cumsum([s.seconds for s in shots])
        self.bounds = [0] + [round(float(t) * rate) for t in ends]
        self.spans = [(start, start + s.narration_seconds) for s, start in zip(shots, starts, strict=True)
                      if s.narration is not None]

    def shot(self, index: int) -> np.ndarray:
        first, last = self.bounds[index], self.bounds[index + 1]
        out = np.zeros(last - first, dtype=np.float32)
        narration = self.shots[index].narration
        if narration is not None:
            n = min(len(narration), len(out))
            out[:n] += narration[:n]
        if self.track is not None and len(out):
            out += looped(self.track, first, len(out)) * duck_gain(first, len(out), self.rate, self.spans,
                                                                      self.duck_db)
        return np.clip(out, -1.0, 1.0)
