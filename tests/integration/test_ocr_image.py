"""ocr_image on the real PP-OCRv6 models: words the test draws (several fonts, sizes and colours over
noisy gradients and a real photo) are read back exactly, line by line in reading order, with boxes
where they were drawn; pictures without text read as empty; accented Latin and Greek stay as written.

No normalisation at all: the assertions compare the tool's strings with the drawn strings as they are.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.helpers import Assets
from tests.unit.test_image_input import png_header_only
from tools.base import ToolError
from tools.media.image import encode_png
from tools.registry import get_tool

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"  # matplotlib is a dependency: always here
SKIMAGE_DATA = Path(importlib.util.find_spec("skimage").origin).parent / "data"  # photos inside the wheel


@dataclass(frozen=True)
class Words:
    """A phrase to draw: font file (None: Pillow's built-in Aileron), size, colour, where."""

    text: str
    font: str | None
    size: int
    fill: tuple[int, int, int]
    at: tuple[int, int]
    stroke: int = 0


def noisy_gradient(width: int, height: int, seed: int, dark: bool) -> Image.Image:
    """A photo-like backdrop: a two-way colour gradient, soft blobs and sensor-like noise."""
    rng = np.random.default_rng(seed)
    y, x = np.linspace(0, 1, height)[:, None, None], np.linspace(0, 1, width)[None, :, None]
    base = (35 + 70 * y * [0.3, 0.5, 1] + 45 * x * [1, 0.4, 0.2]) if dark else \
        (205 + 35 * y * [1, 0.9, 0.6] - 30 * x * [0.2, 0.5, 1])
    for cx, cy, amp in rng.uniform([0, 0, -50], [1, 1, 50], (6, 3)):
        base = base + amp * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 0.02)
    return Image.fromarray(np.clip(base + rng.normal(0, 10, (height, width, 3)), 0, 255).astype(np.uint8))


def draw(image: Image.Image, words: list[Words]) -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """`image` with each phrase drawn on it, and each phrase's ink box (checked to fit the picture)."""
    canvas = ImageDraw.Draw(image)
    boxes = []
    for w in words:
        font = ImageFont.truetype(str(FONTS / w.font), w.size) if w.font else ImageFont.load_default(w.size)
        box = canvas.textbbox(w.at, w.text, font=font, stroke_width=w.stroke)
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= image.width and box[3] <= image.height, f"{w} overflows"
        canvas.text(w.at, w.text, font=font, fill=w.fill, stroke_width=w.stroke, stroke_fill=(0, 0, 0))
        boxes.append(box)
    return image, boxes


def photo(name: str) -> Image.Image:
    return Image.open(SKIMAGE_DATA / name).convert("RGB")


WHITE, YELLOW, BLACK, RED, NAVY = (255, 255, 255), (255, 220, 40), (10, 10, 10), (170, 20, 20), (20, 30, 110)

SCENES = {
    "poster on a dark gradient": (lambda: noisy_gradient(960, 540, 1, dark=True), [
        Words("LIGHTHOUSE MUSEUM", "DejaVuSans-Bold.ttf", 56, WHITE, (60, 60)),
        Words("Open daily 9 to 5", "DejaVuSerif.ttf", 36, YELLOW, (60, 220)),
        Words("Harbour Road 42", "DejaVuSansMono.ttf", 24, WHITE, (60, 400)),
    ]),
    "notice on a light gradient": (lambda: noisy_gradient(900, 420, 2, dark=False), [
        Words("Seal Bay Ferry", "DejaVuSerif-Italic.ttf", 48, BLACK, (50, 50)),
        Words("Tickets 12.50 at the kiosk", "STIXGeneral.ttf", 32, RED, (50, 190)),
        Words("Last boat leaves at 18:30", None, 28, NAVY, (50, 310)),
    ]),
    "caption on a real photo": (lambda: photo("chelsea.png"), [
        Words("Keeper Ada", "DejaVuSans-Bold.ttf", 40, WHITE, (20, 230), stroke=2),
    ]),
    "accented Latin on a real photo": (lambda: photo("coffee.png"), [
        Words("Crème brûlée", "DejaVuSans.ttf", 40, WHITE, (30, 20), stroke=2),
        Words("Straße 7 Łódź", "STIXGeneral.ttf", 36, WHITE, (30, 330), stroke=2),
    ]),
}


@pytest.fixture
def assets(tmp_path) -> Assets:
    return Assets(tmp_path)


def ocr(models, assets: Assets, image: Image.Image, **args) -> dict:
    tool = get_tool("ocr_image")
    image_id = assets.add(encode_png(image), "image", "image/png")
    return tool.run(tool.parse({"image": image_id, **args}), assets.context(models)).values


@pytest.mark.parametrize("scene", sorted(SCENES))
def test_drawn_words_are_read_exactly_in_reading_order(scene, models, assets):
    backdrop, words = SCENES[scene]
    image, drawn = draw(backdrop(), words)
    values = ocr(models, assets, image)
    assert [line["text"] for line in values["lines"]] == [w.text for w in words]
    assert values["text"] == "\n".join(w.text for w in words)
    for line, ink in zip(values["lines"], drawn, strict=True):
        assert _iou(line["box"], ink) > 0.5, (line, ink)
        assert 0.5 <= line["confidence"] <= 1.0
    assert values["confidence"] >= 0.8 and (values["width"], values["height"]) == image.size
    assert 0 < values["text_area"] < 0.5
    assert all(b["text"] in values["text"] and len(b["quad"]) == 4 for b in values["boxes"])


def _iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.mark.parametrize("picture", ["gradient", "blank", "chelsea.png", "coffee.png", "rocket.jpg"])
def test_a_picture_without_text_reads_as_empty(picture, models, assets):
    image = {"gradient": lambda: noisy_gradient(640, 360, 3, dark=True),
             "blank": lambda: Image.new("RGB", (320, 200), (255, 255, 255))}.get(picture, lambda: photo(picture))()
    values = ocr(models, assets, image)
    assert (values["text"], values["lines"], values["boxes"], values["confidence"]) == ("", [], [], None)
    assert values["text_area"] == 0.0


def test_greek_comes_back_as_greek_letters(models, assets):
    """PP-OCRv6's alphabet has Greek without accents; letters with a Latin twin (A, E, T, o) may come back
    Latin, so the check is on the letters that have none: they are returned as Greek, never transliterated."""
    image, _ = draw(noisy_gradient(700, 200, 4, dark=False), [Words("ΔΕΛΤΑ ΦΩΣ", "DejaVuSans.ttf", 56, BLACK,
                                                                    (40, 60))])
    text = ocr(models, assets, image)["text"]
    assert {"Δ", "Λ", "Φ", "Ω", "Σ"} <= set(text) and text.isprintable()


def test_text_on_a_transparent_layer_is_read(models, assets):
    """White words on a transparent PNG would vanish if flattened onto white: they are laid on black."""
    layer = Image.new("RGBA", (640, 160), (0, 0, 0, 0))
    ImageDraw.Draw(layer).text((30, 40), "Night Tide", font=ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 56),
                               fill=(255, 255, 255, 255))
    assert ocr(models, assets, layer)["text"] == "Night Tide"


@pytest.mark.parametrize("tool_name", ["ocr_image", "classify_image", "describe_image"])
@pytest.mark.parametrize("data", [b"", b"GIF89a broken", png_header_only(20_000, 20_000)],
                         ids=["empty", "corrupt", "bomb"])
def test_bad_image_assets_fail_the_step_with_one_line(tool_name, data, models, assets):
    tool = get_tool(tool_name)
    image_id = assets.add(data, "image", "image/png")
    with pytest.raises(ToolError) as info:
        tool.run(tool.parse({"image": image_id}), assets.context(models))
    assert image_id in str(info.value) and "\n" not in str(info.value)
