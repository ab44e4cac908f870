"""Tiny random models are built from configs, load through from_pretrained, and are reproducible."""
import hashlib
import io

import numpy as np
import pytest
from PIL import Image

from tests.helpers import Assets
from tools.base import ToolError
from tools.engines.tiny import build_tokenizer, ensure_built
from tools.registry import get_tool


def _digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_tiny_builds_are_identical(tmp_path):
    from tools.engines.clip import build_clip

    a = ensure_built(tmp_path / "a", build_clip)
    b = ensure_built(tmp_path / "b", build_clip)
    assert _digest(a) == _digest(b)


def test_tokenizer_encodes_english(tmp_path):
    from transformers import CLIPTokenizer

    tok = CLIPTokenizer.from_pretrained(str(ensure_built(tmp_path / "tok", build_tokenizer)))
    ids = tok("a red fox in the snow").input_ids
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id and tok.unk_token_id not in ids[1:-1]


def test_interrupted_build_is_replaced(tmp_path):
    target = tmp_path / "tok"
    target.mkdir()
    (target / "junk").write_text("half a model")
    ensure_built(target, build_tokenizer)
    assert not (target / "junk").exists() and (target / ".complete").exists()


def test_tiny_models_load_through_from_pretrained(models):
    pipe = models.get("text_to_image").pipe
    assert type(pipe).__name__ == "StableDiffusionPipeline"
    assert pipe.unet.config.block_out_channels == [32, 64]
    assert models.spec("clip").source == "tiny" and models.get("clip").model.config.projection_dim == 32


def test_same_seed_same_image_and_batches_match_single_calls(models):
    model = models.get("text_to_image")
    first = np.asarray(model.generate(["a fox"], [1], steps=2, width=64, height=64)[0], dtype=int)
    again = np.asarray(model.generate(["a fox"], [1], steps=2, width=64, height=64)[0], dtype=int)
    assert np.array_equal(first, again)
    images = model.generate(["a fox", "a seal"], [1, 2], steps=2, width=64, height=64)
    batch = [np.asarray(i, dtype=int) for i in images]
    # CPU kernels block matrix products differently per batch size, so a batch may differ from
    # single calls by float rounding: at most one grey level, never a different picture.
    assert np.abs(batch[0] - first).max() <= 1
    assert np.abs(batch[0] - batch[1]).mean() > 5


def test_clip_score_matches_a_hand_computation(tmp_path, models):
    assets = Assets(tmp_path)
    image = Image.new("RGB", (48, 48), (10, 120, 200))
    from tools.media.image import encode_png

    asset = assets.add(encode_png(image), "image", "image/png")
    tool = get_tool("clip_score")
    values = tool.run(tool.parse({"image": asset, "text": "a blue sky"}), assets.context(models)).values
    clip = models.get("clip")
    img = clip.embed_images([image])[0]
    txt = clip.embed_texts(["a blue sky"])[0]
    cosine = float(img @ txt / (np.linalg.norm(img) * np.linalg.norm(txt)))
    assert abs(values["cosine"] - cosine) < 1e-5
    assert abs(values["clip_score"] - 100 * max(cosine, 0)) < 1e-3


def test_reference_image_steers_the_result(tmp_path, models):
    """Image-to-image starts from the reference: another reference gives another picture, the same one
    the same picture. (The tiny VAE is random, so it cannot keep colours; real ones do.)"""
    from tools.media.image import encode_png

    assets = Assets(tmp_path)
    red, blue = (assets.add(encode_png(Image.new("RGB", (64, 64), c)), "image", "image/png")
                 for c in ((230, 20, 20), (20, 20, 230)))
    tool = get_tool("generate_image")
    base = {"prompt": "a fox", "seed": 5, "width": 64, "height": 64}

    def pixels(**extra):
        result = tool.run(tool.parse({**base, **extra}), assets.context(models))
        return result, np.asarray(Image.open(io.BytesIO(result.artifacts[0].data)), dtype=int)

    from_red, red_pixels = pixels(reference=red, strength=0.5)
    assert np.array_equal(red_pixels, pixels(reference=red, strength=0.5)[1])
    assert np.abs(red_pixels - pixels(reference=blue, strength=0.5)[1]).mean() > 1
    assert np.abs(red_pixels - pixels()[1]).mean() > 1
    assert from_red.artifacts[0].params["reference"] == red and from_red.artifacts[0].params["strength"] == 0.5
    audio = assets.add(b"RIFF0000WAVE", "audio", "audio/wav")
    with pytest.raises(ToolError, match="is audio, expected image"):
        tool.run(tool.parse({**base, "reference": audio}), assets.context(models))


def test_a_cancel_stops_the_diffusion_loop_between_denoising_steps(models):
    model = models.get("text_to_image")
    asked = []

    def cancelled() -> bool:  # answers "no" for the first two denoising steps, then "yes"
        asked.append(True)
        return len(asked) > 2

    with pytest.raises(ToolError, match="^cancelled$"):
        model.generate(["a fox"], [1], steps=20, width=64, height=64, cancelled=cancelled)
    assert 3 <= len(asked) <= 5, "checked after each step and stopped at once, not after all 20"
