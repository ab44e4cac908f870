"""The captioning tools on the tiny offline BLIP: a deterministic build, batched captions that match
single ones, keyframe sampling and merging over a real H.264 clip, and clear errors for bad inputs."""
from __future__ import annotations

import hashlib
import tempfile
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import Assets
from tools.base import ToolError
from tools.caption_image import CaptionImage
from tools.caption_video import CaptionVideo
from tools.engines.captioner import build_tiny_captioner
from tools.media.image import encode_png
from tools.media.keyframes import keyframe_spans, merge_segments, sample_keyframes

RED, BLUE = (220, 30, 30), (30, 30, 220)


def encode_test_video(seconds: float = 2.0, fps: int = 8, size: int = 64) -> bytes:
    """An H.264 (yuv420p) MP4: red frames for the first half, blue for the second."""
    import av

    count = round(seconds * fps)
    with tempfile.TemporaryDirectory(prefix="storyloom-test-") as tmp:
        path = Path(tmp) / "clip.mp4"
        with av.open(str(path), mode="w", format="mp4") as box:
            stream = box.add_stream("libx264", rate=fps)
            stream.width = stream.height = size
            stream.pix_fmt, stream.time_base = "yuv420p", Fraction(1, fps)
            for i in range(count):
                rgb = np.full((size, size, 3), RED if i < count // 2 else BLUE, dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts = i
                box.mux(stream.encode(frame))
            box.mux(stream.encode(None))
        return path.read_bytes()


def make_test_video(assets: Assets, seconds: float = 2.0, fps: int = 8) -> str:
    """A small red-then-blue MP4 video asset; returns its id (for tool examples and tests)."""
    return assets.add(encode_test_video(seconds, fps), "video", "video/mp4", duration=seconds)


def _image(assets: Assets, color=RED) -> str:
    return assets.add(encode_png(Image.new("RGB", (64, 64), color)), "image", "image/png")


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def assets(tmp_path) -> Assets:
    return Assets(tmp_path)


@pytest.fixture(scope="module")
def captioner(models):
    return models.get("captioner")


def test_tiny_build_is_deterministic_and_loads_back(tmp_path):
    from transformers import BlipForConditionalGeneration, BlipProcessor

    build_tiny_captioner(tmp_path / "a")
    build_tiny_captioner(tmp_path / "b")
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")
    assert {"config.json", "model.safetensors", "processor_config.json"} <= set(_hashes(tmp_path / "a"))
    model = BlipForConditionalGeneration.from_pretrained(tmp_path / "a")
    processor = BlipProcessor.from_pretrained(tmp_path / "a")
    text = model.config.text_config
    # BLIP's token layout: BERT's vocabulary plus [DEC] (the decoder's bos) and [ENC].
    assert text.vocab_size == len(processor.tokenizer) == 30524
    assert text.bos_token_id == processor.tokenizer.convert_tokens_to_ids("[DEC]") == 30522
    assert (text.sep_token_id, text.pad_token_id) == (processor.tokenizer.sep_token_id, 0)


def test_caption_image_is_vocabulary_text_deterministic_and_batches(assets, models, captioner):
    tool, ctx = CaptionImage(), assets.context(models)
    red, blue = (tool.parse({"image": _image(assets, colour)}) for colour in (RED, BLUE))
    single = tool.run(red, ctx)
    caption = single.values["caption"]
    assert isinstance(caption, str) and caption == caption.strip() and caption
    assert single.model_id == models.spec("captioner").model_id == captioner.spec.model_id
    tokens = captioner.processor.tokenizer.tokenize(caption)
    assert tokens and "[UNK]" not in tokens  # random weights, but real WordPiece words
    # The executor merges calls with equal batch keys; greedy decoding keeps them equal to single runs.
    assert tool.batch_key(red) == tool.batch_key(blue) != tool.batch_key(tool.parse({"image": red.image,
                                                                                     "prompt": "a photo of"}))
    batch = tool.run_batch([red, blue], ctx)
    assert [r.values for r in batch] == [single.values, tool.run(blue, ctx).values]


# Batched and single captions are compared exactly although a batch rounds differently (about 2e-7 on logits
# near 0.6 here): greedy decoding keeps a token unless rounding swaps the top two, and the smallest gap between
# them in these captions is 7e-5, some 300 times that. The weights are the same on every machine (seeded build).
def test_batched_captions_equal_single_ones(captioner):
    red, blue = Image.new("RGB", (48, 40), RED), Image.new("RGB", (64, 64), BLUE)
    both = captioner.caption([red, blue], max_new_tokens=8)
    assert both == [captioner.caption([red], max_new_tokens=8)[0], captioner.caption([blue], max_new_tokens=8)[0]]
    assert both[0] != both[1]  # the image reaches the decoder: different pictures, different words


def test_caption_image_prompt_starts_the_caption(assets, models):
    tool = CaptionImage()
    result = tool.run(tool.parse({"image": _image(assets), "prompt": "A picture of"}), assets.context(models))
    assert result.values["caption"].startswith("a picture of ")


def test_caption_video_segments_cover_the_clip(assets, models):
    tool = CaptionVideo()
    result = tool.run(tool.parse({"video": make_test_video(assets), "keyframes": 4}), assets.context(models))
    values = result.values
    assert values["keyframes"] == 4 and 1 <= len(values["segments"]) <= 4
    segments = values["segments"]
    assert segments[0]["start"] == 0.0 and segments[-1]["end"] == pytest.approx(2.0, abs=0.01)
    assert all(a["end"] == b["start"] and a["caption"] != b["caption"] for a, b in pairwise(segments))
    assert all(s["start"] < s["end"] and s["caption"] for s in segments)
    assert values["description"].startswith("0.0-")
    assert values["description"].count(" s: ") == len(segments)
    assert result.model_id == models.spec("captioner").model_id


def test_keyframes_are_sampled_evenly_from_the_right_frames(assets):
    duration, frames = sample_keyframes(assets.views[make_test_video(assets)].path, 4)
    assert duration == pytest.approx(2.0, abs=0.01) and len(frames) == 4
    colours = [tuple(int(c) for c in np.asarray(f).reshape(-1, 3).mean(axis=0)) for f in frames]
    reds = [c[0] > 150 and c[2] < 80 for c in colours]
    assert reds == [True, True, False, False], colours
    spans = keyframe_spans(duration, 4)
    assert len(spans) == 4 and spans[0][0] == 0 and spans[-1][1] == duration
    assert all(a[1] == b[0] and a[0] < a[1] for a, b in pairwise(spans))


def test_more_keyframes_than_frames_still_gives_one_frame_each(assets):
    _, frames = sample_keyframes(assets.views[make_test_video(assets, seconds=0.5, fps=8)].path, 16)
    assert len(frames) == 16


def test_merge_extends_repeated_and_empty_captions():
    spans = keyframe_spans(4.0, 4)
    assert merge_segments(spans, ["a cat", "a cat", "a dog", "a cat"]) == [
        {"start": 0.0, "end": 2.0, "caption": "a cat"},
        {"start": 2.0, "end": 3.0, "caption": "a dog"},
        {"start": 3.0, "end": 4.0, "caption": "a cat"},
    ]
    assert merge_segments(spans, ["", "a dog", "", "a cat"]) == [
        {"start": 0.0, "end": 3.0, "caption": "a dog"},
        {"start": 3.0, "end": 4.0, "caption": "a cat"},
    ]
    assert merge_segments(spans, ["", "", "", ""]) == []


def test_empty_video_is_a_tool_error_naming_it(assets, models):
    tool = CaptionVideo()
    empty = assets.add(b"", "video", "video/mp4")
    with pytest.raises(ToolError, match=f"video {empty} is empty"):
        tool.run(tool.parse({"video": empty}), assets.context(models))


def test_truncated_video_is_a_tool_error_naming_it(assets, models):
    tool = CaptionVideo()
    data = encode_test_video()
    cut = assets.add(data[: len(data) // 2], "video", "video/mp4")
    with pytest.raises(ToolError, match=f"cannot decode video {cut}"):
        tool.run(tool.parse({"video": cut}), assets.context(models))


def test_image_where_a_video_is_expected_names_the_kind(assets, models):
    tool = CaptionVideo()
    with pytest.raises(ToolError, match="is image, expected video"):
        tool.run(tool.parse({"video": _image(assets)}), assets.context(models))


@pytest.mark.parametrize("raw, argument", [
    ({"keyframes": 0}, "keyframes"),
    ({"keyframes": 100}, "keyframes"),
    ({"fps": 2}, "fps"),
])
def test_bad_video_arguments_are_named(assets, raw, argument):
    with pytest.raises(ToolError, match=f"`{argument}`"):
        CaptionVideo().parse({"video": "0" * 32, **raw})


@pytest.mark.parametrize("raw, argument", [({"prompt": "x" * 201}, "prompt"), ({"prompt": ""}, "prompt"),
                                           ({"style": "poetic"}, "style"), ({"image": "nope"}, "image")])
def test_bad_image_arguments_are_named(raw, argument):
    with pytest.raises(ToolError, match=f"`{argument}`"):
        CaptionImage().parse({"image": "0" * 32, **raw})
