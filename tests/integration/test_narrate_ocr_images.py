"""Library narration reads the words in pictures (real PP-OCRv6) and, offline, names real photos with the
real ImageNet classifier, never with the tiny random captioner.

Drawn text is compared exactly; the classifier's class is checked against a set of plausible ones
(which cat breed wins differs between CPUs).
"""
from __future__ import annotations

import json

from PIL import Image

from agent.service.runs import narrate_library
from tests.integration.test_ocr_image import SCENES, SKIMAGE_DATA, Words, draw, noisy_gradient, photo
from tests.unit.test_image_input import png_header_only
from tools.narration.style import HEDGES, style_problems

POSTER = SCENES["poster on a dark gradient"]  # three lines over most of a 960 x 540 picture
POSTER_WORDS = "LIGHTHOUSE MUSEUM Open daily 9 to 5 Harbour Road 42"
CAT_WORDS = {"cat", "tabby", "lynx"}


def _library(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    cup = photo("coffee.png")
    draw(cup, [Words("Open daily", "DejaVuSans-Bold.ttf", 40, (255, 255, 255), (30, 20), stroke=2)])
    cup.save(lib / "cup.png")
    make, words = POSTER
    draw(make(), words)[0].save(lib / "poster.png")
    (lib / "cat.png").write_bytes((SKIMAGE_DATA / "chelsea.png").read_bytes())
    noisy_gradient(320, 240, 3, dark=True).save(lib / "plain.png")  # a picture with no text at all
    greek = noisy_gradient(700, 200, 4, dark=False)
    draw(greek, [Words("ΔΕΛΤΑ ΦΩΣ", "DejaVuSans.ttf", 56, (10, 10, 10), (40, 60))])[0].save(lib / "greek.png")
    (lib / "huge.png").write_bytes(png_header_only(20000, 20000))
    Image.new("L", (7000, 7000)).save(lib / "bomb.png")  # 49 Mpx in a few kB
    (lib / "empty.png").write_bytes(b"")
    return lib


def test_alt_text_quotes_the_words_and_names_the_photo(tmp_path, runtime):
    out = tmp_path / "out"
    report = narrate_library(runtime, [_library(tmp_path)], out)
    items = {i["name"]: i for i in report["items"]}
    assert {n for n, i in items.items() if i["status"] == "failed"} == {"huge.png", "bomb.png", "empty.png"}
    assert "decompression bomb" in items["huge.png"]["error"] and "7000x7000" in items["bomb.png"]["error"]
    assert all("\n" not in items[n]["error"] for n in ("huge.png", "bomb.png", "empty.png"))

    cup = items["cup.png"]["data"]
    assert "Text: 'Open daily'" in cup["alt"] and cup["described_by"] == "describe_image", cup
    assert cup["long_description"] is None  # short text: the alt text holds it whole

    poster = items["poster.png"]["data"]
    assert poster["complex"] == "image of text" and poster["text_area"] >= 0.1, poster
    assert poster["alt"].startswith("Mostly text: 'LIGHTHOUSE MUSEUM"), poster["alt"]
    said = json.loads((out / items["poster.png"]["outputs"]["alt"]).read_text())["long_description"]
    assert "'LIGHTHOUSE MUSEUM' / 'Open daily 9 to 5' / 'Harbour Road 42'" in said, said
    assert " ".join(POSTER_WORDS.split()) in " ".join(poster["text"].split())

    cat = items["cat.png"]["data"]
    assert any(w in cat["alt"].lower() for w in CAT_WORDS) and "Text:" not in cat["alt"], cat["alt"]
    assert cat["caption"] == cat["alt"] or cat["alt"].startswith(cat["caption"].rstrip("."))
    plain = items["plain.png"]["data"]
    assert plain["text"] == "" and "Text:" not in plain["alt"]
    greek = items["greek.png"]["data"]["alt"]  # PP-OCRv6 has Greek without accents; twins may come back Latin
    assert {"Δ", "Λ", "Φ", "Ω", "Σ"} <= set(greek), greek
    for name in ("cup.png", "poster.png", "cat.png", "plain.png", "greek.png"):
        alt = items[name]["data"]["alt"]
        assert 0 < len(alt) <= 125 and style_problems(alt, allow=HEDGES) == [], alt
    # The tiny random captioner never describes a real library offline (it may be loaded by other tests
    # sharing the session's models, so what is checked is which describer each item used).
    assert not runtime.models.spec("captioner").real
    assert {items[n]["data"]["described_by"] for n in ("cup.png", "poster.png", "cat.png", "plain.png",
                                                       "greek.png")} == {"describe_image"}
