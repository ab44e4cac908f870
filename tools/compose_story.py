"""compose_story: a story video of scene images held while their narration plays, plus WebVTT subtitles.

The WebVTT helpers live in `tools.media.vtt` and the MP4/audio encoding in `tools.media.mp4` /
`tools.media.audio` (shared with `compose_video`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from tools.base import Artifact, Text, Tool, ToolContext, ToolError, ToolInput, ToolResult, asset_ref
from tools.media.audio import read_audio, resample
from tools.media.image import open_image
from tools.media.mp4 import FrameInput, check_cancelled, encode_mp4, fit_image, frame_counts, measure_duration
from tools.media.vtt import format_vtt, narration_cues, truncate
from tools.registry import register

MAX_TOTAL_SECONDS = 3600.0
INTENT_CHARS = 500


class SceneInput(ToolInput):
    """One scene: a picture, the narration played over it, and the narration's text."""

    image: str = asset_ref("image", "The image shown for the whole scene.")
    audio: str = asset_ref("audio", "The narration clip; the scene lasts exactly as long as this clip.")
    text: Text = Field(min_length=1, max_length=5000, description="The narration text, shown as subtitles.")


class ComposeStoryInput(FrameInput):
    """Arguments of `compose_story`."""

    scenes: list[SceneInput] = Field(min_length=1, max_length=24, description="The scenes, in playing order.")


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
            check_cancelled(ctx.cancelled)
            scenes.append(_load_scene(ctx, scene, args.width, args.height))
        _unify_rates(scenes)
        starts = [float(t) for t in np.cumsum([0.0] + [s.duration for s in scenes])]
        total = starts.pop()
        if total > MAX_TOTAL_SECONDS:
            raise ToolError(f"the narration lasts {total:.0f} s; the limit is {MAX_TOTAL_SECONDS:.0f} s")
        data = encode_mp4(args.width, args.height, args.fps, scenes[0].rate,
                          lambda writer: _write_scenes(writer, scenes, ctx.cancelled))
        cues = [cue for scene, start in zip(scenes, starts, strict=True)
                for cue in narration_cues(scene.text, scene.segments, start, scene.duration)]
        intent = truncate(" ".join(s.text.strip() for s in args.scenes), INTENT_CHARS)
        video = Artifact(
            name="video", kind="video", mime="video/mp4", data=data, intent=intent,
            width=args.width, height=args.height, duration=measure_duration(data, total),
            params={"fps": args.fps, "scenes": len(scenes), "scene_starts": [round(t, 3) for t in starts]},
        )
        subtitles = Artifact(
            name="subtitles", kind="subtitles", mime="text/vtt", data=format_vtt(cues).encode("utf-8"),
            intent=intent, duration=total,
        )
        return ToolResult(artifacts=[video, subtitles], values={"duration": total})


def _load_scene(ctx: ToolContext, scene: SceneInput, width: int, height: int) -> _Scene:
    image_view = ctx.asset(scene.image, "image")
    audio_view = ctx.asset(scene.audio, "audio")
    try:
        image = open_image(image_view.path)
    except ToolError as exc:
        raise ToolError(f"image asset {scene.image}: {exc}") from None
    audio, rate = read_audio(audio_view.path, f"audio asset {scene.audio}")
    frame = fit_image(image, width, height)
    return _Scene(frame, audio, rate, scene.text, audio_view.params.get("segments"))


def _unify_rates(scenes: list[_Scene]) -> None:
    """Resample every clip to the first clip's rate (linear interpolation is plenty for speech)."""
    rate = scenes[0].rate
    for scene in scenes[1:]:
        if scene.rate != rate:
            scene.audio = resample(scene.audio, scene.rate, rate)
            scene.rate = rate


def _write_scenes(writer, scenes: list[_Scene], cancelled) -> None:
    """Each image lasts exactly as long as its narration."""
    counts = frame_counts([s.duration for s in scenes], writer.fps)
    for scene, count in zip(scenes, counts, strict=True):
        check_cancelled(cancelled)
        writer.add_frames(scene.frame, count)
        writer.add_audio(scene.audio)
