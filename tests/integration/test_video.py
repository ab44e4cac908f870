"""generate_video runs the tiny LTX-Video pipeline for real: clips decode as H.264 with the recorded frame
count and timing, seeds reproduce, images animate, bad arguments are named, and cancelling stops it."""
from __future__ import annotations

import hashlib
import io
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from tests.helpers import Assets
from tools.base import ToolContext, ToolError
from tools.engines.text_to_video import build_tiny_video, nearest_frame_count
from tools.generate_video import GenerateVideo
from tools.media.audio import encode_wav
from tools.media.image import encode_png

SMALL = {"prompt": "a red fox running", "seconds": 1, "fps": 8, "width": 64, "height": 64, "seed": 1}


def _run(models, assets: Assets, ctx: ToolContext | None = None, **changes):
    tool = GenerateVideo()
    return tool.run(tool.parse({**SMALL, **changes}), ctx or assets.context(models)).artifacts[0]


def _decode(data: bytes) -> tuple[list[np.ndarray], av.video.stream.VideoStream]:
    with av.open(io.BytesIO(data)) as box:
        assert [(s.type, s.codec_context.name) for s in box.streams] == [("video", "h264")]
        stream = box.streams.video[0]
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in box.decode(stream)]
        return frames, stream


def test_text_to_video_decodes_with_recorded_frames_and_timing(tmp_path, models):
    art = _run(models, Assets(tmp_path), width=96, height=64)
    frames, stream = _decode(art.data)
    assert art.kind == "video" and art.mime == "video/mp4"
    assert art.params["frames"] == len(frames) == 9  # 1 s at 8 fps asks 8 frames; LTX takes 8k+1
    assert frames[0].shape == (64, 96, 3) and (art.width, art.height) == (96, 64)
    assert stream.average_rate == Fraction(8) and stream.codec_context.pix_fmt == "yuv420p"
    assert art.duration == pytest.approx(9 / 8)
    assert float(stream.duration * stream.time_base) == pytest.approx(art.duration, abs=1 / 8)
    assert art.params["steps"] == models.spec("text_to_video").options["steps"] and art.params["image"] is None


def test_same_seed_same_clip_other_seed_other_clip(tmp_path, models):
    assets = Assets(tmp_path)
    first, again, other = (_run(models, assets, seed=s) for s in (1, 1, 2))
    assert first.data == again.data
    a, b = _decode(first.data)[0], _decode(other.data)[0]
    assert np.abs(np.stack(a) - np.stack(b)).mean() > 5


def test_unseeded_runs_record_their_seed(tmp_path, models):
    art = _run(models, Assets(tmp_path), seed=None)
    assert 0 <= art.params["seed"] < 2**32


def test_image_to_video_animates_the_reference(tmp_path, models):
    assets = Assets(tmp_path)
    image = assets.add(encode_png(Image.new("RGB", (80, 48), (200, 40, 40))), "image", "image/png")
    animated = _run(models, assets, image=image)
    assert animated.params["image"] == image
    frames, _ = _decode(animated.data)
    assert len(frames) == animated.params["frames"] == 9
    text_only = _decode(_run(models, assets).data)[0]
    assert np.abs(np.stack(frames) - np.stack(text_only)).mean() > 1  # the picture changed the clip


def test_an_audio_asset_is_not_an_image(tmp_path, models):
    assets = Assets(tmp_path)
    audio = assets.add(encode_wav(np.zeros(2400, dtype=np.float32), 24000), "audio", "audio/wav", duration=0.1)
    with pytest.raises(ToolError, match="is audio, expected image"):
        _run(models, assets, image=audio)


@pytest.mark.parametrize(("change", "named"), [
    ({"seconds": 0}, "`seconds`"),
    ({"seconds": 60}, "`seconds`"),
    ({"seconds": 10, "fps": 30}, "`seconds` x `fps`"),
    ({"width": 100}, "`width`: .*multiple of 32"),
    ({"height": 1344}, "`height`"),
    ({"prompt": "   "}, "`prompt`: .*blank"),
    ({"image": "not-an-asset-id"}, "`image`"),
    ({"steps": 0}, "`steps`"),
])
def test_bad_arguments_are_named(change, named):
    with pytest.raises(ToolError, match=named):
        GenerateVideo().parse({**SMALL, **change})


def test_frame_counts_round_to_the_models_steps():
    assert [nearest_frame_count(n) for n in (2, 8, 12, 13, 16, 240, 244)] == [9, 9, 9, 17, 17, 241, 241]


def test_cancelled_before_start(tmp_path, models):
    assets = Assets(tmp_path)
    ctx = ToolContext(models=models, resolve=assets.views.__getitem__, cancelled=lambda: True)
    with pytest.raises(ToolError, match="^cancelled$"):
        _run(models, assets, ctx=ctx)


def test_cancelled_between_denoising_steps(tmp_path, models):
    assets, answers = Assets(tmp_path), iter([False])  # not yet at the start, then cancelled
    ctx = ToolContext(models=models, resolve=assets.views.__getitem__, cancelled=lambda: next(answers, True))
    with pytest.raises(ToolError, match="^cancelled$"):
        _run(models, assets, ctx=ctx, steps=3)
    assert models.get("text_to_video").pipe.interrupt  # the denoising loop was told to stop


def test_tiny_build_is_reproducible_and_loads_as_ltx(tmp_path, models):
    build_tiny_video(tmp_path / "a")
    build_tiny_video(tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    model = models.get("text_to_video")
    assert type(model.pipe).__name__ == "LTXPipeline" and type(model.i2v).__name__ == "LTXImageToVideoPipeline"
    assert type(model.pipe.tokenizer).__name__ == "CLIPTokenizer"
    assert (model.pipe.vae_spatial_compression_ratio, model.pipe.vae_temporal_compression_ratio) == (32, 8)


def _digest(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
