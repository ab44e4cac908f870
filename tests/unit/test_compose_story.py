"""compose_story: a real MP4 (H.264 + AAC) and WebVTT from tiny images and sine-tone narration."""
from __future__ import annotations

import io
import itertools
import uuid
from pathlib import Path

import av
import numpy as np
import pytest
import webvtt
from PIL import Image

from tests.helpers import Assets
from tools.base import ToolError
from tools.compose_story import ComposeStory
from tools.media.audio import encode_wav
from tools.media.vtt import format_vtt, sentence_cues, split_cue, vtt_timestamp

RATE = 24000
RED, BLUE = (220, 30, 30), (30, 40, 210)
TEXT_1 = "A lighthouse keeper lived alone. Every night he lit the lamp!"
TEXT_2 = "One morning a grey seal was waiting on the rocks, watching him with round dark eyes."


class StoryAssets(Assets):
    """Pictures of one colour and sine-tone narration, kept as files."""

    def image(self, colour, size=(64, 48)) -> str:
        buf = io.BytesIO()
        Image.new("RGB", size, colour).save(buf, format="PNG")
        return self.add(buf.getvalue(), "image", "image/png", width=size[0], height=size[1])

    def tone(self, seconds: float, freq: float = 440.0, rate: int = RATE, **params) -> str:
        t = np.arange(round(seconds * rate)) / rate
        data = encode_wav(0.3 * np.sin(2 * np.pi * freq * t), rate)
        return self.add(data, "audio", "audio/wav", duration=seconds, params=params)


@pytest.fixture
def assets(tmp_path: Path) -> StoryAssets:
    return StoryAssets(tmp_path)


def compose(assets: Assets, scenes: list[dict], **options):
    tool = ComposeStory()
    args = tool.parse({"scenes": scenes, "width": 64, "height": 64, "fps": 12, **options})
    return tool.run(args, assets.context())


def two_scenes(assets: Assets, **audio_params) -> list[dict]:
    return [
        {"image": assets.image(RED), "audio": assets.tone(1.3), "text": TEXT_1},
        {"image": assets.image(BLUE, (40, 64)), "audio": assets.tone(2.1, 660.0, **audio_params),
         "text": TEXT_2},
    ]


def read_cues(vtt_bytes: bytes) -> list[tuple[float, float, str]]:
    """(start, end, text) per cue, parsed by webvtt-py (whose *_in_seconds drop the milliseconds)."""
    return [(seconds(c.start), seconds(c.end), c.text)
            for c in webvtt.from_buffer(io.StringIO(vtt_bytes.decode("utf-8")))]


def seconds(stamp: str) -> float:
    hours, minutes, secs = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(secs)


def centre_mean(frame) -> np.ndarray:
    rgb = frame.to_ndarray(format="rgb24")
    return rgb[24:40, 24:40].reshape(-1, 3).mean(axis=0)


def test_video_has_h264_and_aac_and_lasts_as_long_as_the_narration(assets):
    result = compose(assets, two_scenes(assets))
    video, subtitles = result.artifacts
    total = 1.3 + 2.1
    assert (video.name, video.kind, video.mime) == ("video", "video", "video/mp4")
    assert result.values["duration"] == pytest.approx(total, abs=1e-3)
    assert video.duration == pytest.approx(total, abs=0.25)
    assert video.params["scene_starts"] == [0.0, 1.3]
    with av.open(io.BytesIO(video.data)) as container:
        assert [s.codec_context.name for s in container.streams.video] == ["h264"]
        assert [s.codec_context.name for s in container.streams.audio] == ["aac"]
        assert container.streams.audio[0].codec_context.sample_rate == RATE
        assert container.duration / av.time_base == pytest.approx(total, abs=0.25)
        frames = list(container.decode(video=0))
    assert abs(len(frames) - round(total * 12)) <= 1
    assert (frames[0].width, frames[0].height) == (64, 64)
    assert np.allclose(centre_mean(frames[0]), RED, atol=25)
    assert np.allclose(centre_mean(frames[-1]), BLUE, atol=25)


def test_letterbox_keeps_the_border_black(assets):
    scenes = [{"image": assets.image(RED, (64, 16)), "audio": assets.tone(0.5), "text": "Wide."}]
    video = compose(assets, scenes).artifacts[0]
    with av.open(io.BytesIO(video.data)) as container:
        rgb = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert rgb[:16].mean() < 20 and rgb[-16:].mean() < 20
    assert np.allclose(rgb[30:34].reshape(-1, 3).mean(axis=0), RED, atol=25)


def test_subtitles_cover_the_story_in_order(assets):
    subtitles = compose(assets, two_scenes(assets)).artifacts[1]
    assert subtitles.mime == "text/vtt" and subtitles.data.startswith(b"WEBVTT")
    cues = read_cues(subtitles.data)
    assert cues[0][0] == pytest.approx(0.0, abs=0.05)
    assert cues[-1][1] == pytest.approx(3.4, abs=0.05)
    for (start, end, _), (next_start, _, _) in itertools.pairwise(cues):
        assert start < end <= next_start
    words = " ".join(text for _, _, text in cues).split()
    assert words == (TEXT_1 + " " + TEXT_2).split()
    assert all(len(line) <= 42 for _, _, text in cues for line in text.splitlines())
    scene_two = [c for c in cues if "seal" in c[2]][0]
    assert scene_two[0] == pytest.approx(1.3, abs=0.05)


def test_audio_segments_set_the_cue_times(assets):
    segments = [{"text": "One morning a grey seal", "start": 0.1, "end": 0.9},
                {"text": "was waiting on the rocks.", "start": 1.0, "end": 2.0}]
    cues = read_cues(compose(assets, two_scenes(assets, segments=segments)).artifacts[1].data)
    assert cues[0][0] == 0.0 and "lighthouse" in cues[0][2]
    assert cues[-2:] == [(1.4, 2.2, "One morning a grey seal"), (2.3, 3.3, "was waiting on the rocks.")]


def test_clips_at_another_rate_are_resampled(assets):
    scenes = two_scenes(assets)
    scenes[1]["audio"] = assets.tone(1.0, rate=16000)
    result = compose(assets, scenes)
    assert result.values["duration"] == pytest.approx(2.3, abs=1e-3)
    with av.open(io.BytesIO(result.artifacts[0].data)) as container:
        assert container.streams.audio[0].codec_context.sample_rate == RATE


def test_missing_asset_is_a_tool_error(assets):
    scenes = two_scenes(assets)
    scenes[0]["image"] = uuid.uuid4().hex
    with pytest.raises(ToolError, match="does not exist"):
        compose(assets, scenes)


def test_audio_where_an_image_belongs_is_a_tool_error(assets):
    scenes = two_scenes(assets)
    scenes[0]["image"] = scenes[0]["audio"]
    with pytest.raises(ToolError, match="is audio, expected image"):
        compose(assets, scenes)


def test_corrupt_image_is_a_tool_error_naming_the_asset(assets):
    scenes = two_scenes(assets)
    scenes[1]["image"] = broken = assets.add(b"", "image", "image/png")
    with pytest.raises(ToolError, match=f"image asset {broken}"):
        compose(assets, scenes)


def test_corrupt_audio_is_a_tool_error_naming_the_asset(assets):
    scenes = two_scenes(assets)
    scenes[0]["audio"] = broken = assets.add(b"RIFF not really", "audio", "audio/wav")
    with pytest.raises(ToolError, match=f"audio asset {broken}"):
        compose(assets, scenes)


def test_cancel_stops_between_scenes(assets):
    tool = ComposeStory()
    args = tool.parse({"scenes": two_scenes(assets), "width": 64, "height": 64, "fps": 12})
    with pytest.raises(ToolError, match="cancelled"):
        tool.run(args, assets.context(cancelled=lambda: True))


def test_odd_width_is_refused_by_parse(assets):
    with pytest.raises(ToolError, match="width.*even"):
        ComposeStory().parse({"scenes": two_scenes(assets), "width": 65})


def test_bad_scene_list_is_refused_by_parse():
    with pytest.raises(ToolError, match="scenes"):
        ComposeStory().parse({"scenes": []})
    with pytest.raises(ToolError, match="scenes.0.image"):
        ComposeStory().parse({"scenes": [{"image": "x", "audio": "0" * 32, "text": "hi"}]})


def test_vtt_timestamps():
    assert vtt_timestamp(3661.5) == "01:01:01.500"
    assert vtt_timestamp(0) == "00:00:00.000"
    assert vtt_timestamp(59.9996) == "00:01:00.000"
    text = format_vtt([(0.0, 1.25, "Hello."), (1.25, 3661.5, "a < b & c --> d")])
    assert text.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.250\nHello.\n\n2\n")
    assert "00:00:01.250 --> 01:01:01.500\na &lt; b &amp; c → d\n" in text


def test_sentence_cues_share_time_by_length():
    cues = sentence_cues("Hi. This sentence is much longer.", 2.0, 5.0)
    assert [c[2] for c in cues] == ["Hi.", "This sentence is much longer."]
    assert cues[0][0] == 2.0 and cues[-1][1] == 5.0 and cues[0][1] == cues[1][0]
    assert cues[0][1] - 2.0 == pytest.approx(3.0 * 3 / 32)


def test_long_text_is_wrapped_and_split_without_losing_words():
    text = " ".join(f"word{i}" for i in range(60))
    cues = split_cue(0.0, 6.0, text)
    assert len(cues) > 1 and all(len(c[2].splitlines()) <= 2 for c in cues)
    assert all(len(line) <= 42 for c in cues for line in c[2].splitlines())
    assert " ".join(c[2] for c in cues).split() == text.split()
    assert cues[0][0] == 0.0 and cues[-1][1] == 6.0
