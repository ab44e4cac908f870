"""classify_image and describe_image on the real EfficientNet-Lite0 and real photos (scikit-image's
bundled pictures, inside its wheel): a plausible ImageNet class in the top 5, batches equal single
calls, the class names file is the standard index order, the weights are the pinned ones.

Tolerant on purpose: which cat breed wins, and by how much, differs between CPUs and library builds.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import ImageDraw, ImageFont

from tests.helpers import Assets
from tests.integration.test_ocr_image import FONTS, SKIMAGE_DATA, photo
from tools.engines.classifier import imagenet_classes, load_classifier
from tools.media.image import encode_png
from tools.model_manager import ModelUnavailable
from tools.registry import get_tool

PLAUSIBLE = {
    "chelsea.png": {"tabby", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat", "lynx"},
    "coffee.png": {"espresso", "cup", "coffee mug", "eggnog", "consomme"},
    "rocket.jpg": {"missile", "projectile", "space shuttle"},
    "camera.png": {"tripod", "reflex camera", "Polaroid camera"},
}


def _add_photo(assets: Assets, name: str) -> str:
    return assets.add((SKIMAGE_DATA / name).read_bytes(), "image", "image/png")


@pytest.mark.parametrize("name", sorted(PLAUSIBLE))
def test_a_real_photo_gets_a_plausible_class_in_the_top_5(name, models, tmp_path):
    tool, assets = get_tool("classify_image"), Assets(tmp_path)
    values = tool.run(tool.parse({"image": _add_photo(assets, name)}), assets.context(models)).values
    top5 = [guess["imagenet"] for guess in values["labels"]]
    assert len(top5) == 5 and PLAUSIBLE[name] & set(top5), top5
    probabilities = [guess["probability"] for guess in values["labels"]]
    assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1.0001
    assert (values["label"], values["probability"]) == (values["labels"][0]["label"], probabilities[0])


def test_a_batch_gives_what_single_calls_give(models, tmp_path):
    tool, assets = get_tool("classify_image"), Assets(tmp_path)
    args = [tool.parse({"image": _add_photo(assets, n), "top_k": 3}) for n in sorted(PLAUSIBLE)]
    batched = tool.run_batch(args, assets.context(models))
    for one, together in zip((tool.run(a, assets.context(models)) for a in args), batched, strict=True):
        assert [g["index"] for g in one.values["labels"]] == [g["index"] for g in together.values["labels"]]
        assert np.allclose([g["probability"] for g in one.values["labels"]],
                           [g["probability"] for g in together.values["labels"]], atol=1e-3)
    assert models.loads["classifier"] == 1


@pytest.mark.parametrize(("name", "words"), [
    ("chelsea.png", ("cat",)), ("coffee.png", ("espresso", "cup", "mug")), ("camera.png", ("tripod", "camera")),
])
def test_describe_image_names_the_photo_plainly(name, words, models, tmp_path):
    tool, assets = get_tool("describe_image"), Assets(tmp_path)
    values = tool.run(tool.parse({"image": _add_photo(assets, name)}), assets.context(models)).values
    assert any(w in values["description"].lower() for w in words), values["description"]
    assert "Text:" not in values["description"] and values["text"] == ""
    assert set(values["models"]) == {"classifier", "ocr"}


def test_describe_image_quotes_the_words_on_a_photo(models, tmp_path):
    image = photo("coffee.png")
    font = ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), 40)
    ImageDraw.Draw(image).text((30, 20), "Open daily", font=font, fill=(255, 255, 255), stroke_width=2,
                               stroke_fill=(0, 0, 0))
    tool, assets = get_tool("describe_image"), Assets(tmp_path)
    image_id = assets.add(encode_png(image), "image", "image/png")
    values = tool.run(tool.parse({"image": image_id}), assets.context(models)).values
    assert values["description"].endswith(" Text: 'Open daily'") and values["text"] == "Open daily"


def test_the_class_names_are_the_standard_imagenet_order():
    names = imagenet_classes()
    assert len(names) == 1000
    assert [names[i] for i in (0, 1, 281, 285, 409, 817, 967, 999)] == [
        "tench", "goldfish", "tabby", "Egyptian cat", "analog clock", "sports car", "espresso", "toilet tissue"]
    repeated = {n for n in names if names.count(n) > 1}
    assert repeated == {"crane", "maillot"}  # as in the standard list: a bird and a machine; two swimsuits


def test_weights_that_are_not_the_pinned_ones_are_refused(models):
    spec = models.spec("classifier")
    wrong = dataclasses.replace(spec, options={**spec.options, "sha256": "0" * 64})
    with pytest.raises(ModelUnavailable, match="not the pinned"):
        load_classifier(wrong, models)
