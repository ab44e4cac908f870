"""compose_video: stills with Ken Burns motion, clips, narration, a ducked soundtrack; no models."""
from __future__ import annotations

import io
import uuid
from fractions import Fraction

import av
import numpy as np
import pytest
import webvtt
from PIL import Image

from tests.helpers import Assets
from tools.base import ToolError
from tools.media.audio import encode_wav
from tools.media.image import encode_png
from tools.registry import get_tool

GREEN, MAGENTA = (30, 200, 40), (200, 30, 190)
SIZE, FPS = 64, 12


@pytest.fixture
def assets(tmp_path) -> Assets:
    return Assets(tmp_path)


def still(assets: Assets) -> str:
    """A picture with detail everywhere (a zoom or pan over a flat colour would look still)."""
    y, x = np.mgrid[0:48, 0:64]
    rgb = np.stack([x * 4, y * 5, ((x // 16 + y // 16) % 2) * 160], axis=-1).astype(np.uint8)
    return assets.add(encode_png(Image.fromarray(rgb)), "image", "image/png", width=64, height=48)


def tone(assets: Assets, seconds: float, freq: float, rate: int = 24000, amp: float = 0.3, **params) -> str:
    t = np.arange(round(seconds * rate)) / rate
    data = encode_wav(amp * np.sin(2 * np.pi * freq * t), rate)
    return assets.add(data, "audio", "audio/wav", duration=seconds, params=params)


def clip(assets: Assets, colours=(GREEN, MAGENTA), seconds_each: float = 0.5, fps: int = 10) -> str:
    """A small H.264 clip, 64x32 (wider than the output, so it is letterboxed), one colour after another."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as box:
        stream = box.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.time_base = Fraction(1, fps)
        pts = 0
        for colour in colours:
            for _ in range(round(seconds_each * fps)):
                frame = av.VideoFrame.from_ndarray(np.full((32, 64, 3), colour, np.uint8), format="rgb24")
                frame.pts, pts = pts, pts + 1
                box.mux(stream.encode(frame))
        box.mux(stream.encode(None))
    return assets.add(buf.getvalue(), "video", "video/mp4", duration=seconds_each * len(colours))


def compose(assets: Assets, shots: list[dict], **options):
    tool = get_tool("compose_video")
    args = tool.parse({"shots": shots, "width": SIZE, "height": SIZE, "fps": FPS, **options})
    return tool.run(args, assets.context(None))


def decode(data: bytes) -> tuple[list[np.ndarray], np.ndarray, int, float]:
    """RGB frames, mono audio samples, the audio rate, and the container's duration in seconds."""
    with av.open(io.BytesIO(data)) as box:
        frames = [f.to_ndarray(format="rgb24").astype(float) for f in box.decode(video=0)]
    with av.open(io.BytesIO(data)) as box:
        rate = box.streams.audio[0].codec_context.sample_rate
        audio = np.concatenate([f.to_ndarray()[0] for f in box.decode(audio=0)])
        duration = box.duration / av.time_base
    return frames, audio, rate, duration


def amplitude(audio: np.ndarray, rate: int, freq: float, start: float, end: float) -> float:
    """Amplitude of the `freq` sine in audio[start:end] (a one-bin Fourier transform)."""
    window = audio[round(start * rate):round(end * rate)]
    t = np.arange(len(window)) / rate
    return float(2 * np.abs(np.sum(window * np.exp(-2j * np.pi * freq * t))) / len(window))


def centre(frame: np.ndarray) -> np.ndarray:
    return frame[28:36, 28:36].reshape(-1, 3).mean(axis=0)


@pytest.mark.parametrize("motion", ["zoom_in", "zoom_out", "pan_left", "pan_right"])
def test_a_moving_still_changes_and_a_still_still_does_not(assets, motion):
    picture = still(assets)
    shots = [{"image": picture, "seconds": 1.0, "motion": motion}, {"image": picture, "seconds": 1.0, "motion": "none"}]
    frames = decode(compose(assets, shots).artifacts[0].data)[0]
    assert len(frames) == 2 * FPS
    moving, held = frames[:FPS], frames[FPS:]
    steps = [np.abs(a - b).mean() for a, b in zip(moving, moving[1:], strict=False)]
    assert np.abs(moving[0] - moving[-1]).mean() > 5 * np.median(steps)  # it travels...
    assert max(steps) < 2 * np.median(steps) + 1  # ...steadily, without jumps
    assert max(np.abs(held[0] - f).mean() for f in held) < 1.5


def test_a_zoom_starts_on_the_whole_letterboxed_picture(assets):
    picture = still(assets)
    frames = decode(compose(assets, [{"image": picture, "seconds": 0.5, "motion": "zoom_in"},
                                     {"image": picture, "seconds": 0.5, "motion": "none"}]).artifacts[0].data)[0]
    start, end = (np.abs(frames[i] - frames[6]).mean() for i in (0, 5))
    assert start < 4 < 2 * start < end  # zoom_in starts on the full frame (the motion="none" frame)
    assert frames[0][:4].mean() < 20 and frames[0][-4:].mean() < 20  # 64x48 in 64x64: black bars


def test_a_clip_shows_its_colours_and_holds_its_last_frame(assets):
    shots = [{"clip": clip(assets), "seconds": 1.5}]
    frames = decode(compose(assets, shots).artifacts[0].data)[0]
    assert len(frames) == round(1.5 * FPS)
    assert np.allclose(centre(frames[round(0.2 * FPS)]), GREEN, atol=25)
    assert np.allclose(centre(frames[round(0.8 * FPS)]), MAGENTA, atol=25)
    assert np.allclose(centre(frames[-1]), MAGENTA, atol=25)
    assert frames[5][:8].mean() < 20  # 64x32 letterboxed into 64x64


def test_a_long_clip_is_cut_to_the_shot(assets):
    result = compose(assets, [{"clip": clip(assets), "seconds": 0.4}])
    frames = decode(result.artifacts[0].data)[0]
    assert len(frames) == round(0.4 * FPS)
    assert all(np.allclose(centre(f), GREEN, atol=25) for f in frames)


def test_default_lengths_add_up(assets):
    shots = [{"image": still(assets)},  # no narration, no clip: 3 s
             {"image": still(assets), "narration": tone(assets, 1.25, 1000.0)},  # the narration's 1.25 s
             {"clip": clip(assets)}]  # the clip's 1.0 s
    result = compose(assets, shots)
    video = result.artifacts[0]
    assert result.values == {"duration": pytest.approx(5.25), "shot_starts": [0.0, 3.0, 4.25]}
    frames, audio, rate, duration = decode(video.data)
    assert abs(len(frames) - round(5.25 * FPS)) <= 1
    assert duration == pytest.approx(5.25, abs=0.1) and video.duration == pytest.approx(5.25, abs=0.1)
    assert len(audio) / rate == pytest.approx(5.25, abs=0.1)
    assert video.params["shot_seconds"] == [3.0, 1.25, 1.0]
    assert video.params["motions"] == ["zoom_in", "zoom_in", "clip"]
    with av.open(io.BytesIO(video.data)) as box:
        assert [s.codec_context.name for s in box.streams] == ["h264", "aac"]
        assert box.streams.audio[0].codec_context.channels == 1


@pytest.mark.parametrize("duck_db", [12.0, 20.0])
def test_the_soundtrack_is_ducked_under_the_narration(assets, duck_db):
    # Music: a 200 Hz tone at 16 kHz (resampled to the narration's 24 kHz), 1 s long, so it loops.
    music = tone(assets, 1.0, 200.0, rate=16000)
    shots = [{"image": still(assets), "seconds": 2.0, "motion": "none"},
             {"image": still(assets), "seconds": 2.0, "narration": tone(assets, 1.5, 1000.0), "motion": "none"},
             {"image": still(assets), "seconds": 1.5, "motion": "none"}]
    result = compose(assets, shots, soundtrack=music, duck_db=duck_db)
    _, audio, rate, _ = decode(result.artifacts[0].data)
    assert rate == 24000
    before = amplitude(audio, rate, 200, 0.5, 1.5)
    under = amplitude(audio, rate, 200, 2.3, 3.3)  # narration plays 2.0-3.5; ramps take 0.2 s
    after = amplitude(audio, rate, 200, 4.0, 5.0)  # looped past its 1 s, back to full level
    assert before == pytest.approx(0.3, rel=0.1) and after == pytest.approx(before, rel=0.1)
    assert 20 * np.log10(before / under) == pytest.approx(duck_db, abs=2.0)
    assert amplitude(audio, rate, 1000, 2.3, 3.3) == pytest.approx(0.3, rel=0.1)
    assert amplitude(audio, rate, 1000, 0.5, 1.5) < 0.01


def test_subtitles_follow_the_shots(assets):
    segments = [{"text": "First part.", "start": 0.1, "end": 0.6}, {"text": "Second part.", "start": 0.7, "end": 1.2}]
    shots = [{"image": still(assets), "seconds": 2.0, "text": "Over the still."},
             {"image": still(assets), "narration": tone(assets, 1.25, 1000.0, segments=segments),
              "text": "First part. Second part."},
             {"image": still(assets), "seconds": 1.0}]
    subtitles = compose(assets, shots).artifacts[1]
    assert subtitles.mime == "text/vtt"
    cues = [(c.start, c.end, c.text) for c in webvtt.from_buffer(io.StringIO(subtitles.data.decode()))]
    assert cues == [("00:00:00.000", "00:00:02.000", "Over the still."),
                    ("00:00:02.100", "00:00:02.600", "First part."),
                    ("00:00:02.700", "00:00:03.200", "Second part.")]


def test_shots_with_both_or_neither_picture_are_refused(assets):
    tool = get_tool("compose_video")
    with pytest.raises(ToolError, match=r"`shots.0`.*exactly one of `image` or `clip`; this one has both"):
        tool.parse({"shots": [{"image": still(assets), "clip": clip(assets)}]})
    with pytest.raises(ToolError, match=r"`shots.1`.*exactly one of `image` or `clip`; this one has neither"):
        tool.parse({"shots": [{"image": still(assets)}, {"text": "Nothing to see."}]})


def test_narration_longer_than_its_shot_is_a_tool_error(assets):
    shots = [{"image": still(assets)}, {"image": still(assets), "narration": tone(assets, 2.0, 1000.0), "seconds": 1.2}]
    with pytest.raises(ToolError, match=r"shots\.1: the narration lasts 2\.00 s but the shot is 1\.20 s "
                                        r"\(over by 0\.80 s\)"):
        compose(assets, shots)


def test_bad_arguments_and_assets_are_named(assets):
    tool = get_tool("compose_video")
    with pytest.raises(ToolError, match="width.*even"):
        tool.parse({"shots": [{"image": still(assets)}], "width": 66 + 1})
    with pytest.raises(ToolError, match="duck_db"):
        tool.parse({"shots": [{"image": still(assets)}], "duck_db": 40})
    with pytest.raises(ToolError, match="shots.0.motion"):
        tool.parse({"shots": [{"image": still(assets), "motion": "spin"}]})
    with pytest.raises(ToolError, match="is image, expected video"):
        compose(assets, [{"clip": still(assets)}])
    broken = assets.add(b"not a video", "video", "video/mp4")
    with pytest.raises(ToolError, match=f"shots.0: clip asset {broken}"):
        compose(assets, [{"clip": broken}])
    with pytest.raises(ToolError, match="does not exist"):
        compose(assets, [{"image": still(assets)}], soundtrack=uuid.uuid4().hex)


def test_cancel_stops_the_work(assets):
    tool = get_tool("compose_video")
    args = tool.parse({"shots": [{"image": still(assets)}], "width": SIZE, "height": SIZE})
    ctx = assets.context(None)
    ctx.cancelled = lambda: True
    with pytest.raises(ToolError, match="cancelled"):
        tool.run(args, ctx)
