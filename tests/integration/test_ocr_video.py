"""ocr_video on a real H.264 clip with burned-in text: each text is read exactly, with on-screen times
within one sampling interval of when it was burned in; held pictures are read once; a clip without
text reads as empty; broken or wrong inputs are one-line errors."""
from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import Assets
from tests.integration.test_ocr_image import WHITE, YELLOW, Words, draw, noisy_gradient
from tools.base import ToolContext, ToolError
from tools.media.image import encode_png
from tools.ocr_video import MAX_FRAMES, text_segments
from tools.registry import get_tool

FPS, SIZE = 8, (640, 360)
TITLE = Words("Seal Bay Ferry", "DejaVuSans-Bold.ttf", 48, WHITE, (40, 60))
LOWER_THIRD = Words("Captain Ada Lovelace", "DejaVuSerif.ttf", 32, YELLOW, (40, 280))
# (start s, end s, words on screen): nothing, the title, the lower third, nothing
TIMELINE = [(0.0, 1.5, []), (1.5, 3.5, [TITLE]), (3.5, 5.0, [LOWER_THIRD]), (5.0, 6.0, [])]


def encode_clip(timeline=TIMELINE, fps: int = FPS) -> bytes:
    """An H.264 MP4 of a still noisy backdrop with each part's words burned in for its time."""
    import av

    with tempfile.TemporaryDirectory(prefix="storyloom-test-") as tmp:
        path = Path(tmp) / "clip.mp4"
        with av.open(str(path), mode="w", format="mp4") as box:
            stream = box.add_stream("libx264", rate=fps)
            stream.width, stream.height = SIZE
            stream.pix_fmt, stream.time_base = "yuv420p", Fraction(1, fps)
            index = 0
            for start, end, words in timeline:
                picture = np.asarray(draw(noisy_gradient(*SIZE, seed=7, dark=True), words)[0])
                for _ in range(round((end - start) * fps)):
                    frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                    frame.pts = index
                    box.mux(stream.encode(frame))
                    index += 1
            box.mux(stream.encode(None))
        return path.read_bytes()


@pytest.fixture(scope="module")
def clip() -> bytes:
    return encode_clip()


def run(models, assets: Assets, data: bytes, **args) -> dict:
    tool = get_tool("ocr_video")
    video = assets.add(data, "video", "video/mp4", duration=6.0)
    return tool.run(tool.parse({"video": video, **args}), assets.context(models)).values


def test_burned_in_text_is_read_with_its_times(clip, models, tmp_path):
    values = run(models, Assets(tmp_path), clip, interval=0.5)
    segments = values["segments"]
    assert [s["text"] for s in segments] == [TITLE.text, LOWER_THIRD.text]
    for segment, (start, end, _) in zip(segments, TIMELINE[1:3], strict=True):
        assert segment["start"] == pytest.approx(start, abs=0.5) and segment["end"] == pytest.approx(end, abs=0.5)
        assert segment["confidence"] > 0.8 and segment["lines"][0]["text"] == segment["text"]
    assert values["text"] == f"{TITLE.text}\n{LOWER_THIRD.text}"
    assert values["samples"] == 12 and values["interval"] == 0.5 and values["duration"] == pytest.approx(6.0)
    # four different pictures: a held picture is read once, not at every sample
    assert 4 <= values["frames_read"] < values["samples"]


def test_sampling_is_capped_for_long_videos(clip, models, tmp_path):
    values = run(models, Assets(tmp_path), clip, interval=0.2)
    assert values["samples"] == 30 <= MAX_FRAMES  # 6 s at 0.2 s
    assert MAX_FRAMES == 120  # a 2-hour film is read in 120 spans of 60 s, not 36,000 frames


def test_a_clip_without_text_reads_as_empty(models, tmp_path):
    values = run(models, Assets(tmp_path), encode_clip([(0.0, 2.0, [])]), interval=0.5)
    assert (values["text"], values["segments"]) == ("", [])
    assert values["frames_read"] == 1 and values["samples"] == 4


@pytest.mark.parametrize(("data", "match"), [
    (b"", "is empty"),
    (b"\x00\x00\x00\x18ftypmp42 definitely not a real movie", "cannot decode"),
    # FFmpeg opens a PNG as a one-picture stream with no duration
    (encode_png(noisy_gradient(64, 64, 1, dark=True)), "has no video stream|cannot decode|no known duration"),
])
def test_bad_videos_are_one_line_errors(data, match, models, tmp_path):
    with pytest.raises(ToolError, match=match) as info:
        run(models, Assets(tmp_path), data)
    assert "\n" not in str(info.value)


def test_a_misread_letter_does_not_split_a_segment():
    def reading(text, confidence):
        return {"text": text, "confidence": confidence, "lines": [{"text": text}]}

    spans = [((0.0, 1.0), reading("Seal Bay Ferry", 0.95)), ((1.0, 2.0), reading("Seal Bav Ferry", 0.7)),
             ((2.0, 3.0), reading("", None)), ((3.0, 4.0), reading("Seal Bay Ferry", 0.9))]
    segments = text_segments(spans)
    assert [(s["start"], s["end"], s["text"]) for s in segments] == [
        (0.0, 2.0, "Seal Bay Ferry"), (3.0, 4.0, "Seal Bay Ferry")]


def test_cancelling_stops_the_reading(clip, models, tmp_path):
    assets = Assets(tmp_path)
    tool = get_tool("ocr_video")
    args = tool.parse({"video": assets.add(clip, "video", "video/mp4", duration=6.0)})
    ctx = ToolContext(models=models, resolve=assets.views.__getitem__, cancelled=lambda: True)
    with pytest.raises(ToolError, match="cancelled"):
        tool.run(args, ctx)
