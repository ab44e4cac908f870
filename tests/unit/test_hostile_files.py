"""Hostile files (issue 19): metadata parsed in linear time under a size cap, exotic image formats
refused before any decoder parses them."""
from __future__ import annotations

import re
import time

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from agent.narrate.library import detect_kind
from tools.media.image import open_allowed
from tools.narration.metadata import MAX_XMP_CHARS, XMP_KEY, read_embedded, xmp_field

UNCLOSED = "<Iptc4xmpCore:AltTextAccessibility><rdf:Alt><rdf:li>"


def _xmp_png(path, xmp: str):
    info = PngInfo()
    info.add_itxt(XMP_KEY, xmp, zip=True)  # compressed: a few kB on disk
    Image.new("RGB", (8, 8), "white").save(path, pnginfo=info)
    return path


def test_unclosed_xmp_tags_are_read_in_linear_time():
    old = re.compile(r"<Iptc4xmpCore:AltTextAccessibility>\s*<rdf:Alt>\s*<rdf:li[^>]*>(.*?)</rdf:li>", re.S)
    small = UNCLOSED * (20_000 // len(UNCLOSED))
    started = time.perf_counter()
    old.search(small)
    quadratic_small = time.perf_counter() - started
    hostile = UNCLOSED * ((MAX_XMP_CHARS - 100) // len(UNCLOSED))  # 12.5 times longer: ~150 times slower before
    started = time.perf_counter()
    assert xmp_field(hostile, "AltTextAccessibility") is None
    linear = time.perf_counter() - started
    assert linear < max(0.05, quadratic_small), (linear, quadratic_small)


def test_xmp_reading_still_finds_the_first_complete_field():
    xmp = (UNCLOSED.replace("<rdf:li>", "<x/>") + "<Iptc4xmpCore:AltTextAccessibility>\n <rdf:Alt>"
           "<rdf:li xml:lang=\"x-default\">A red &amp; blue door</rdf:li></rdf:Alt>")
    assert xmp_field(xmp, "AltTextAccessibility") == "A red & blue door"
    assert xmp_field(xmp, "ExtDescrAccessibility") is None


def test_a_small_png_carrying_a_huge_xmp_packet_is_ignored_quickly(tmp_path):
    packet = UNCLOSED * (900_000 // len(UNCLOSED)) + "<Iptc4xmpCore:AltTextAccessibility><rdf:Alt><rdf:li>x</rdf:li>"
    path = _xmp_png(tmp_path / "bomb.png", packet)
    assert path.stat().st_size < 20_000
    started = time.perf_counter()
    assert "embedded_alt" not in read_embedded(path)  # over MAX_XMP_CHARS: not context at all
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("name", ["drawing.eps", "drawing.png"])
def test_postscript_is_never_handed_to_a_decoder(tmp_path, name):
    eps = tmp_path / name
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with Image.open(eps) as img:  # Pillow alone would take it (and hand it to Ghostscript to load)
        assert img.format == "EPS"
    with pytest.raises(Image.UnidentifiedImageError):
        open_allowed(eps)
    if name.endswith(".png"):
        with pytest.raises(ValueError, match="mislabelled"):
            detect_kind(eps)
    else:
        assert detect_kind(eps) is None
